"""The persistent prompt → result cache."""

from cache.keys import cache_key
from cache.prompt_cache import CachedResult, PromptCache

__all__ = ["CachedResult", "PromptCache", "cache_key"]
