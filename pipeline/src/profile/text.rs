//! The regulations' texts (`data/regulations/`), embedded, and their
//! articles: what a profile's citation is checked against.

/// Each profile's text file and its content.
const TEXTS: &[(&str, &str)] = &[
    (
        "xinjiang-2023.txt",
        include_str!("../../data/regulations/xinjiang-2023.txt"),
    ),
    (
        "xpcc-2025.txt",
        include_str!("../../data/regulations/xpcc-2025.txt"),
    ),
    (
        "tibet-2025.txt",
        include_str!("../../data/regulations/tibet-2025.txt"),
    ),
    (
        "ganzi-2025.txt",
        include_str!("../../data/regulations/ganzi-2025.txt"),
    ),
    (
        "wuzhong-2024-draft.txt",
        include_str!("../../data/regulations/wuzhong-2024-draft.txt"),
    ),
];

/// The part of a text before 第一条: the notice, the title and the page
/// header, where the dates of issue and the draft status are.
pub const HEAD: &str = "文首";

/// A regulation's text, whitespace removed (the texts are copied from web
/// pages, where line breaks fall anywhere).
#[derive(Debug, Clone)]
pub struct RegulationText {
    text: String,
    /// Each article's label (第N条) and where it starts, in order.
    articles: Vec<(String, usize)>,
}

/// An article's number in Chinese numerals, as the texts write it (1 → 一,
/// 10 → 十, 15 → 十五, 20 → 二十, 47 → 四十七).
pub fn numeral(n: u32) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n as usize].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", D[(n - 10) as usize]),
        _ => {
            let (t, u) = (n / 10, n % 10);
            format!(
                "{}十{}",
                D[t as usize],
                if u == 0 { "" } else { D[u as usize] }
            )
        }
    }
}

impl RegulationText {
    /// The embedded text `file`, if there is one.
    pub fn embedded(file: &str) -> Option<RegulationText> {
        TEXTS
            .iter()
            .find(|(f, _)| *f == file)
            .map(|(_, t)| RegulationText::parse(t))
    }

    /// Finds the articles in order: 第N条 is the first occurrence of its
    /// label after 第N-1条 (a reference to a later article inside an
    /// earlier one would be taken for it; none of the texts has one).
    pub fn parse(text: &str) -> RegulationText {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let mut articles = vec![];
        let mut from = 0;
        for n in 1.. {
            let label = format!("第{}条", numeral(n));
            let Some(at) = text[from..].find(&label) else {
                break;
            };
            articles.push((label.clone(), from + at));
            from += at + label.len();
        }
        // A text may number two articles alike (the Wuzhong draft has two
        // 第四十六条): the later ones are found too.
        if let Some((label, _)) = articles.last().cloned() {
            let mut from = articles.last().map(|(_, p)| p + label.len()).unwrap_or(0);
            while let Some(at) = text[from..].find(&label) {
                articles.push((label.clone(), from + at));
                from += at + label.len();
            }
        }
        RegulationText { text, articles }
    }

    /// How many articles were found.
    pub fn article_count(&self) -> usize {
        self.articles.len()
    }

    /// The text of an article (第N条, or [`HEAD`]) up to the next one;
    /// every article so labelled, joined. None: no such article.
    pub fn article(&self, label: &str) -> Option<String> {
        if label == HEAD {
            let end = self.articles.first().map(|(_, p)| *p).unwrap_or(0);
            return Some(self.text[..end].to_string());
        }
        let parts: Vec<&str> = self
            .articles
            .iter()
            .enumerate()
            .filter(|(_, (l, _))| l == label)
            .map(|(i, (_, start))| {
                let end = self
                    .articles
                    .get(i + 1)
                    .map(|(_, p)| *p)
                    .unwrap_or(self.text.len());
                &self.text[*start..end]
            })
            .collect();
        (!parts.is_empty()).then(|| parts.concat())
    }

    /// Whether `words` (whitespace ignored) are in the article.
    pub fn says(&self, label: &str, words: &str) -> bool {
        let words: String = words.chars().filter(|c| !c.is_whitespace()).collect();
        self.article(label).is_some_and(|a| a.contains(&words))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerals_as_the_texts_write_them() {
        let n: Vec<String> = [1, 9, 10, 11, 19, 20, 21, 40, 47, 52]
            .into_iter()
            .map(numeral)
            .collect();
        assert_eq!(
            n,
            [
                "一",
                "九",
                "十",
                "十一",
                "十九",
                "二十",
                "二十一",
                "四十",
                "四十七",
                "五十二"
            ]
        );
    }

    #[test]
    fn every_text_is_found_with_all_its_articles() {
        for (file, n) in [
            ("xinjiang-2023.txt", 47),
            ("xpcc-2025.txt", 52),
            ("tibet-2025.txt", 48),
            ("ganzi-2025.txt", 45),
            // 46 articles, the last number used twice.
            ("wuzhong-2024-draft.txt", 47),
        ] {
            let t = RegulationText::embedded(file).unwrap();
            assert_eq!(t.article_count(), n, "{file}");
        }
        let xj = RegulationText::embedded("xinjiang-2023.txt").unwrap();
        assert!(xj.says("第十一条", "15个工作日内更新本部门公共数据目录"));
        // The words of the next article are not in this one.
        assert!(!xj.says("第十一条", "不得将涉密数据编入公共数据目录"));
        assert!(xj.says("第十二条", "不得将涉密数据编入公共数据目录"));
        assert!(xj.says(HEAD, "成文日期:2023-02-17"));
        assert!(!xj.says("第九十九条", "本办法"));
        let wz = RegulationText::embedded("wuzhong-2024-draft.txt").unwrap();
        // Both of the draft's 第四十六条; the second holds its unfilled date (x月x日).
        assert!(wz.says("第四十六条", "督促改正"));
        assert!(wz.says("第四十六条", "本办法自 2024 年 x 月 x 日起试行"));
    }
}
