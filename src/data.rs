//! Loading numeric tables (CSV, JSON Lines) with clear errors (in progress).
