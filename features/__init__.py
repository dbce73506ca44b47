"""LSP features. Each is a `lsp_server.feature.Feature` that owns its state; lsp_server/wiring.py builds them."""
