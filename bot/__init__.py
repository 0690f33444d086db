"""The running bot: config, durable runtime, store, LLM providers, CLI and wiring."""
