//! pdq connectors.
