//! Check characters of the Chinese national identifiers, as pure functions over
//! ASCII bytes.
//!
//! These are the arithmetic cores shared by the validators (and their UDFs),
//! the demo and benchmark generators and, later, identifier normalisation in
//! one-source resolution. They never allocate and never panic: input of the
//! wrong length or alphabet gives `None`.
//!
//! | identifier | standard | check |
//! |---|---|---|
//! | 公民身份号码 (resident ID) | GB 11643-1999 | ISO 7064 MOD 11-2 over 17 digits |
//! | 组织机构代码 (organisation code) | GB 11714-1997 | MOD 11 over 8 characters |
//! | 统一社会信用代码 (USCC) | GB 32100-2015 | MOD 31 over 17 characters |

pub mod org_code;
pub mod resident_id;
pub mod uscc;
