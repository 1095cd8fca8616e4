//! SQL text: quoted identifiers and table names, literals, and the column
//! expressions that read every value as text the landing stage understands.

use super::{DbSource, Dialect};

/// How a column that is not plain text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// An instant shown in the session's zone without an offset (MySQL
    /// `TIMESTAMP`, stored in UTC).
    Instant,
    /// Bytes: PostgreSQL `bytea`, MySQL `BLOB`s, `BINARY`, `VARBINARY`.
    Binary,
    /// MySQL `BIT(n)`.
    Bit,
}

/// The kind of a MySQL/MariaDB column, by the driver's type name.
pub(super) fn mysql_kind(type_name: &str) -> Option<Kind> {
    match type_name {
        "TIMESTAMP" => Some(Kind::Instant),
        "BIT" => Some(Kind::Bit),
        "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY" => {
            Some(Kind::Binary)
        }
        _ => None,
    }
}

/// The offset pdq writes after a MySQL `TIMESTAMP` value read in the
/// session's UTC.
pub(super) const UTC_OFFSET: &str = "+00:00";

impl DbSource {
    /// One identifier (a column), quoted whole: a `.` in it is part of the
    /// name (issue #23, G).
    pub(super) fn quote_ident(&self, name: &str) -> String {
        quote_part(self.dialect, name)
    }

    /// The configured table, quoted: `schema.table` is split at its dots,
    /// except inside double quotes (`"a.b"`, `public."a.b"`), which keep a
    /// name with dots whole (`""` is a quote inside one).
    pub(super) fn quote_table(&self, name: &str) -> String {
        table_parts(name)
            .iter()
            .map(|p| quote_part(self.dialect, p))
            .collect::<Vec<_>>()
            .join(".")
    }

    fn literal(&self, value: &str) -> String {
        literal(self.dialect, value)
    }

    /// A recorded watermark as a literal to compare with the column: a
    /// MySQL `TIMESTAMP` watermark was recorded with the `+00:00` pdq adds,
    /// which the session (in UTC) does not need and MariaDB does not read.
    pub(super) fn watermark_literal(&self, value: &str) -> String {
        self.literal(session_text(self.dialect, value))
    }

    pub(super) fn text(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("CAST({expr} AS TEXT)"),
            Dialect::Mysql => format!("CAST({expr} AS CHAR)"),
        }
    }

    /// `expr` as text the landing stage reads right: a MySQL `TIMESTAMP`
    /// gets its offset, since the session shows it in UTC; binary strings
    /// are lowercase hex (`deadbeef00`), never bytes taken for characters;
    /// a MySQL `BIT(n)` is its unsigned integer value (`b'10100101'` is
    /// `165`).
    pub(super) fn text_as_read(&self, expr: &str, kind: Option<Kind>) -> String {
        match (self.dialect, kind) {
            (Dialect::Mysql, Some(Kind::Instant)) => {
                format!("CONCAT({}, '{UTC_OFFSET}')", self.text(expr))
            }
            // The driver calls a string column with a `_bin` collation
            // binary too: only a value whose character set is `binary` is
            // bytes.
            (Dialect::Mysql, Some(Kind::Binary)) => format!(
                "IF(CHARSET({expr}) = 'binary', LOWER(HEX({expr})), {})",
                self.text(expr)
            ),
            (Dialect::Mysql, Some(Kind::Bit)) => self.text(&format!("CAST({expr} AS UNSIGNED)")),
            (Dialect::Postgres, Some(Kind::Binary)) => format!("encode({expr}, 'hex')"),
            _ => self.text(expr),
        }
    }
}

pub(super) fn quote_part(dialect: Dialect, part: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("\"{}\"", part.replace('"', "\"\"")),
        Dialect::Mysql => format!("`{}`", part.replace('`', "``")),
    }
}

/// The parts of a configured table name: split at `.` outside double
/// quotes; a quoted part is taken as written (`""` is one quote).
pub(super) fn table_parts(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    parts
}

pub(super) fn literal(dialect: Dialect, value: &str) -> String {
    let mut v = value.replace('\'', "''");
    if dialect == Dialect::Mysql {
        v = v.replace('\\', "\\\\");
    }
    format!("'{v}'")
}

/// A recorded value as the session shows it: without the `+00:00` pdq adds
/// to MySQL `TIMESTAMP` text.
pub(super) fn session_text(dialect: Dialect, value: &str) -> &str {
    match dialect {
        Dialect::Mysql => value.strip_suffix(UTC_OFFSET).unwrap_or(value),
        Dialect::Postgres => value,
    }
}
