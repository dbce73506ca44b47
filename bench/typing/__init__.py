"""Typing replay: real files typed back one key at a time, answered by an oracle, three clients side by side."""
