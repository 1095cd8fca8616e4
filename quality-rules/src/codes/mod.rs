//! Code lists the checks validate against, embedded at build time so that
//! nothing is fetched at run time (the bureau's networks are isolated).

pub mod divisions;
