"""Clients for every Twitch chat source: EventSub, justlog/rustlog, Helix and emote catalogs."""
