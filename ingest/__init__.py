"""The producer side: the emitter SDK and its spill, provider adapters, replay of saved files, the simulator."""
