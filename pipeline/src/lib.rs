//! pdq pipeline.
