"""Context extraction over a SyntaxTree: enclosing scopes, imports, nearby identifiers, definitions.

Everything here is a pure function of (SyntaxTree, str offset). Request-path functions look only at
the cursor's ancestors, the root's direct children, or a byte range around the cursor, never at
the whole tree. This module is the one name callers use; each job lives in its own module.
"""

from __future__ import annotations

from context.definitions import MAX_SNIPPET_LINES, Definition, definitions
from context.identifiers import identifier_tokens, identifiers_near, imports
from context.language_specs import SPECS, LanguageSpec
from context.scopes import Scope, enclosing_scope, enclosing_scopes

__all__ = ["MAX_SNIPPET_LINES", "SPECS", "Definition", "LanguageSpec", "Scope", "definitions", "enclosing_scope",
           "enclosing_scopes", "identifier_tokens", "identifiers_near", "imports"]
