//! Chinese names for the synthetic city: numerals, place-name stems and suffixes.

/// Two- and three-character stems of place and road names.
#[rustfmt::skip]
pub(crate) const STEMS: &[&str] = &[
    "和平", "幸福", "长青", "永安", "东湖", "紫阳", "桃源", "翠柳", "丹桂", "金桥", "银杏", "春晖", "明珠", "锦绣",
    "新华", "建设", "解放", "友谊", "民主", "胜利", "光明", "团结", "复兴", "振兴", "兴业", "文昌", "育才", "滨江",
    "临湖", "南湖", "北湖", "梅园", "竹林", "松涛", "枫林", "荷塘", "柳岸", "书香", "御景", "华庭", "盛世", "阳光",
    "和谐", "宝善", "广福", "青年", "工农", "红旗", "东亭", "中南", "白沙", "晴川", "凤凰", "龙泉", "楚天", "江汉",
    "百步亭", "水果湖", "积玉桥", "黄鹤", "紫薇", "丽水", "秀湖", "清源", "鹦鹉", "晨光", "嘉禾", "瑞安", "康宁",
    "福星", "双墩", "杨园", "徐东", "万松", "车站", "花桥", "汉兴", "古田", "宝丰", "梨园", "常青", "星火",
];

/// Suffixes of commercial compound names.
pub(crate) const COMPOUND_SUFFIXES: &[&str] =
    &["小区", "花园", "家园", "苑", "公馆", "雅居", "名城", "华府", "佳园", "嘉园", "花城", "锦苑", "城", "国际"];

/// Suffixes of old neighbourhood (老旧小区 / 片区) names.
pub(crate) const OLD_SUFFIXES: &[&str] = &["新村", "里", "厂宿舍", "片", "小区", "坊", "村"];

const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
const POS: [&str; 4] = ["千", "百", "十", ""];

fn four(n: u64, top: bool, out: &mut String) {
    let d = [n / 1000 % 10, n / 100 % 10, n / 10 % 10, n % 10];
    let mut started = false;
    let mut zero = false;
    for (i, &x) in d.iter().enumerate() {
        if x == 0 {
            zero |= started;
            continue;
        }
        if zero {
            out.push('零');
            zero = false;
        }
        // 十一, not 一十一, at the head of a number.
        if !(top && !started && i == 2 && x == 1) {
            out.push_str(DIGITS[x as usize]);
        }
        out.push_str(POS[i]);
        started = true;
    }
}

/// A number in Chinese numerals (`3` → `三`, `12` → `十二`, `1010` → `一千零一十`, `20003` → `二万零三`).
/// Numbers of 10⁸ and more are written in Arabic digits.
pub(crate) fn cn(n: u64) -> String {
    let mut s = String::new();
    if n == 0 {
        s.push('零');
    } else if n < 10_000 {
        four(n, true, &mut s);
    } else if n < 100_000_000 {
        four(n / 10_000, true, &mut s);
        s.push('万');
        let lo = n % 10_000;
        if lo > 0 {
            if lo < 1000 {
                s.push('零');
            }
            four(lo, false, &mut s);
        }
    } else {
        s = n.to_string();
    }
    s
}

/// A stem for index `i` of a sequence (`perm` is a shuffled order of [`STEMS`]); indices beyond the
/// list get a numeral (`建设二`, `建设三`, …) so that they stay distinct.
pub(crate) fn stem(perm: &[usize], i: usize) -> String {
    let s = STEMS[perm[i % perm.len()]];
    let round = i / perm.len();
    if round == 0 { s.to_string() } else { format!("{s}{}", cn(round as u64 + 1)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numerals() {
        let cases = [
            (1, "一"),
            (3, "三"),
            (10, "十"),
            (12, "十二"),
            (20, "二十"),
            (101, "一百零一"),
            (110, "一百一十"),
            (1010, "一千零一十"),
            (2345, "二千三百四十五"),
            (10_000, "一万"),
            (10_010, "一万零一十"),
            (20_003, "二万零三"),
            (123_456, "十二万三千四百五十六"),
        ];
        for (n, s) in cases {
            assert_eq!(cn(n), s, "{n}");
        }
    }

    #[test]
    fn stems_wrap_with_numerals() {
        let perm: Vec<usize> = (0..STEMS.len()).collect();
        assert_eq!(stem(&perm, 0), STEMS[0]);
        assert_eq!(stem(&perm, STEMS.len()), format!("{}二", STEMS[0]));
    }
}
