"""The leads chatbot: questions about the caller's own leads, answered by safe tools."""
