"""A tenant's settings as a fold of its settings events, and the policy they give."""
