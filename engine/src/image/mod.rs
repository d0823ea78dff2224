//! Image format logic: references, safe layer extraction, import.
