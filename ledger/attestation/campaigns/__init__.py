"""Campaign receipts: proofs about the sets of subjects a campaign sent to."""
