"""mllm-lab: a study assistant for learning multimodal LLMs in a git repository of notes."""

__version__ = "0.1.0"
