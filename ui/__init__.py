"""The browser UI (Gradio); built in its own issue."""
