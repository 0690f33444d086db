"""Platform adapters: translate platform events to neutral requests and effects back."""
