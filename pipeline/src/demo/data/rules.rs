//! The rule files, one per dataset, written beside the data.

pub(super) const HOUSEHOLD_REGISTRATION_RULES: &str = r#"# 公安局 户籍人口 — 基础数据，每日更新
dataset: household_registration
missing_values: ["无", "NULL"]
key: [id_number]
rules:
  - {id: id_present, dimension: completeness, check: not_null, column: id_number, warn_below: 0.99, fail_below: 0.95}
  - {id: id_valid,   dimension: validity,     check: cn_resident_id, column: id_number}   # 公民身份号码
  - {id: id_unique,  dimension: uniqueness,   check: unique, columns: [id_number]}
  - {id: sex,        dimension: validity,     check: in_set, column: sex_code, values: ['1', '2', '9']}  # GB/T 2261.1
  - {id: region,     dimension: validity,     check: cn_division_code, column: region_code}
  - {id: phone,      dimension: validity,     check: regex, column: phone, pattern: '^1[3-9]\d{9}$'}
  - {id: fresh,      dimension: timeliness,   check: freshness, column: updated_at, max_age: 1d}
  - {id: volume,     dimension: completeness, check: row_count, min: 1000}
"#;

pub(super) const MARRIAGE_REGISTRATION_RULES: &str = r#"# 民政局 婚姻登记 — GB18030 编码的 CSV；数据已超过一周未更新（及时性不合格）
dataset: marriage_registration
missing_values: ["无", "NULL"]
key: [cert_no]
rules:
  - {id: cert_format,     dimension: validity,    check: regex, column: cert_no, pattern: '^J\d{12}$'}
  - {id: husband_valid,   dimension: validity,    check: cn_resident_id, column: husband_id}
  - {id: husband_in_base, dimension: consistency, check: reference, column: husband_id, reference: {data: ../base/population.parquet, column: id_number}}
  - {id: wife_present,    dimension: completeness, check: not_null, column: wife_id}
  - {id: status,          dimension: validity,    check: in_set, column: marital_status, values: ['10', '20', '21', '22', '23', '30', '40', '90']}  # GB/T 2261.2
  - {id: fresh,           dimension: timeliness,  check: freshness, column: updated_at, max_age: 7d}
"#;

pub(super) const BIRTH_CERTIFICATES_RULES: &str = r#"# 卫健委 出生医学证明 — NDJSON
dataset: birth_certificates
missing_values: ["无", "NULL"]
key: [cert_no]
rules:
  - {id: mother_valid,     dimension: validity,    check: cn_resident_id, column: mother_id, allow_lowercase_x: true}
  - {id: weight,           dimension: validity,    check: range, column: birth_weight_g, min: 500, max: 6000, warn_below: 0.99, fail_below: 0.9}
  - {id: hospital,         dimension: validity,    check: cn_uscc, column: hospital_uscc}
  - {id: mother_is_female, dimension: accuracy,    check: expression, expr: "cn_id_sex(mother_id) = '2'"}
"#;

pub(super) const SOCIAL_INSURANCE_RULES: &str = r#"# 人社局 社保参保 — XLSX；本期只报送了 300 条（应不少于 1000 条）
dataset: social_insurance
missing_values: ["无", "NULL"]
key: [id_number]
rules:
  - {id: id_valid, dimension: validity,     check: cn_resident_id, column: id_number}
  - {id: base,     dimension: validity,     check: range, column: contribution_base, min: 1000, max: 40000}
  - {id: unit,     dimension: validity,     check: cn_uscc, column: unit_uscc}
  - {id: status,   dimension: validity,     check: in_set, column: status, values: ['1', '2', '3']}
  - {id: volume,   dimension: completeness, check: row_count, min: 1000}
"#;

pub(super) const MARKET_ENTITIES_RULES: &str = r#"# 市场监管局 市场主体登记 — JSON 数组
dataset: market_entities
missing_values: ["无", "NULL"]
key: [credit_code]
rules:
  - {id: code_valid,     dimension: validity,   check: cn_uscc, column: credit_code}          # 统一社会信用代码
  - {id: code_unique,    dimension: uniqueness, check: unique, columns: [credit_code]}
  - {id: rep_id,         dimension: validity,   check: cn_resident_id, column: legal_rep_id}
  - {id: region_current, dimension: validity,   check: cn_division_code, column: region_code, current_only: true}
  - {id: capital,        dimension: validity,   check: range, column: registered_capital, min: 0}
  - {id: rep_name,       dimension: validity,   check: regex, column: 企业法定代表人, pattern: '^[\p{Han}·]{2,20}$'}   # 姓名只含汉字
  - {id: contact_name,   dimension: validity,   check: regex, column: 单位联系人, pattern: '^[\p{Han}·]{2,20}$'}
  - {id: contact_phone,  dimension: validity,   check: regex, column: 联系电话, pattern: '^1[3-9]\d{9}$'}
"#;

pub(super) const HOUSING_PROVIDENT_FUND_RULES: &str = r#"# 住建局 住房公积金 — 一个目录中的两个 CSV 文件（UTF-8 带 BOM），构成一个数据集
dataset: housing_provident_fund
missing_values: ["无", "NULL"]
key: [account_no]
rules:
  - {id: id_unique, dimension: uniqueness,  check: unique, columns: [id_number]}
  - {id: in_base,   dimension: consistency, check: reference, column: id_number, reference: {data: ../base/population.parquet, column: id_number}}
  - {id: balance,   dimension: validity,    check: range, column: balance, min: 0}
  - {id: life,      dimension: consistency, check: expression, expr: "death_date IS NULL OR death_date >= birth_date"}
"#;
