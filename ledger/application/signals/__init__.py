"""Recording what gateways report: provider signals and deliveries of outbound messages."""
