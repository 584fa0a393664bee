"""Writers: output formats, always written atomically."""
