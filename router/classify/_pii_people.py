"""Persons and postal addresses, for :mod:`router.classify.pii`.

:func:`_person` finds names in a run of capitalised words: a gazetteer of given and family names
plus cues ("my name is", "Dear", "Mr."), with a ``frozenset.isdisjoint`` pre-check that keeps
ordinary capitalised phrases cheap. :func:`_address` finds a postal address around a short number:
street vocabularies of many languages (house number first or street name first), P.O. boxes and
US city, state and ZIP code (:mod:`router.classify._pii_numbers` then extends a street address
over what follows it on its line: unit, floor, district, postcode and town).
"""

from __future__ import annotations

import re
from itertools import accumulate

from router.classify import _names as N
from router.classify._pii_shape import _alt, _Out, _shape, _Span, _vary

# --- persons ----------------------------------------------------------------------------------

_STRONG_ENDS = frozenset(_shape(c)[-2:] + b" " for c in N.STRONG_CUES)
_NAMEISH = N.GIVEN_NAMES | N.SURNAMES | N.HONORIFICS | N.GREETINGS
_NAMEISH |= {h + "." for h in N.HONORIFICS} | {g + "," for g in N.GREETINGS}
_CUES = {**dict.fromkeys(N.WEAK_CUES, "weak"), **dict.fromkeys(N.STRONG_CUES, "strong")}
_CUE_BYTES = frozenset(b",:" + bytes(range(97, 123)) + bytes(range(0xDF, 0x100)))


def _given(k: str) -> bool:
    return k in N.GIVEN_NAMES or ("-" in k and k.split("-", 1)[0] in N.GIVEN_NAMES)


def _cue(text: str, s: int) -> str | None:
    """Whether the words just before ``s`` are a cue such as "my name is": "strong" or
    "weak", or None."""
    words = text[max(0, s - 40) : s].lower().split()[-3:]
    get = _CUES.get
    return get(" ".join(words)) or get(" ".join(words[-2:])) or get(words[-1]) if words else None


def _person(text: str, shape: bytes, s: int, e: int, out: _Out) -> None:
    """Names in a run of capitalised words (one separator character between words): a given name
    with a family name, a title or greeting with a name, a family name first (Zhang Wei), or a
    name right after a cue (my name is)."""
    seg, pre = text[s:e], shape[max(0, s - 3) : s]
    if shape[e : e + 1] == b"0":
        return  # runs into digits: Vec2D, not a name
    if _NAMEISH.isdisjoint(seg.lower().replace("-", " ").split()):
        # No known name, title or greeting in the run (the common case): only a strong cue
        # right before it ("my name is", "Regards,") can still make it a name.
        if not (pre in _STRONG_ENDS or pre[-2:] in (b", ", b": ")) or _cue(text, s) != "strong":
            return
        cue: str | None = "strong"
    else:
        cue = _cue(text, s) if len(pre) == 3 and pre[1] in _CUE_BYTES else None
    words = seg.split()
    keys = [w.rstrip(".,:;").lower() for w in words]
    keys = [k[:-2] if k[-2:] in ("'s", "’s") else k for k in keys]  # possessive: John's
    ok = [  # could be part of a name
        (w[0].isupper() or w[:2] in ("d'", "d’") or w[:3] in ("al-", "el-"))
        and len(k) > 1 and not (k in N.NOT_NAMES or k in N.HONORIFICS or k in N.GREETINGS)
        for w, k in zip(words, keys, strict=True)
    ] + [False]  # fmt: skip
    n, i, lead_at, offs = len(words), 0, 0, []  # offs: where each word starts
    if n > 1 and keys[0] in N.WEAK_CUES:  # the run starts with the cue: "I'm Anna"
        i, lead_at, cue = 1, 1, "weak"
    while i < n:
        k, conf, det, first, j = keys[i], 0.0, "gazetteer", i, i + 1
        while j < n and j - i <= 4:  # j moves past the name words (and particles) after words[i]
            p = j
            while p < n and keys[p] in N.PARTICLES:  # van der, de la, bin
                p += 1
            if p > j and ok[p]:
                j = p
            elif not (ok[j] or (len(words[j]) == 2 and words[j][1] == "." and words[j].isupper())):
                break  # (an initial such as "F." may sit between names)
            j += 1
        if k in N.HONORIFICS or k in N.GREETINGS:
            first, det = i + 1, "cue"
            if j > i + 1:
                known = _given(keys[i + 1]) or keys[j - 1] in N.SURNAMES
                conf = 0.9 if known else 0.8 if k in N.HONORIFICS else 0.0
        elif not (i and keys[i - 1] in N.PLACE_PREFIXES) and _given(k) and k not in N.NOT_NAMES:
            lead = i == lead_at and cue is not None
            known = not N.SURNAMES.isdisjoint(keys[i + 1 : j])
            if j > i + 1 and (known or lead or k not in N.AMBIGUOUS_NAMES):
                conf = 0.9 if lead else 0.85 if known else 0.7
            elif j == i + 1 and lead and (cue == "strong" or k not in N.AMBIGUOUS_NAMES):
                conf = 0.8 if cue == "strong" else 0.65
            det = "cue" if lead else det
        if not conf and k in N.SURNAMES and i + 1 < n and _given(keys[i + 1]):
            j, conf = min(j, i + 3), 0.75  # family name first: Zhang Wei, Nguyen Van An
        if not conf and i == lead_at and cue == "strong" and ok[i]:
            conf, det = 0.75, "cue"
        if not conf:
            i += 1
            continue
        offs = offs or list(accumulate((len(w) + 1 for w in words), initial=s))
        last = words[j - 1]
        core = last.rstrip(".,:;'\"’)") if len(last.rstrip(".,:;")) > 1 else last
        core = core[:-2] if core.endswith(("'s", "’s")) else core
        out.append((offs[first], offs[j - 1] + len(core), "person", conf, det))
        i = j


# --- addresses --------------------------------------------------------------------------------

_CAPS = "".join(c for c in map(chr, range(0xC0, 0x250)) if c.isupper())
_NW = "[A-Z" + _CAPS + r"][\w'’\-]*"  # a capitalised word in a street or city name
_ADDR_FWD = re.compile(  # house number first: 221B Baker Street, 12 rue de la Paix, 1847 Maple
    # Grove Ave (the last street type: the words before it are greedy), 1205 Rue Sainte-Catherine
    r"\d{1,5}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?,?[ \t]+(?:(?:" + _NW + r"|of|the)[ \t]+){1,4}"
    "(?:(?:" + _alt(N.STREET_TYPES) + r")\b|(?:" + _alt(N.STREET_TYPE_ABBREVIATIONS) + r")\b\.?)"
    r"(?:[ \t]+(?:[NS][EW]?|[EW])\b)?|\d{1,5}[ \t]+Broadway\b|\d{1,4}(?:[ \t]?(?:bis|ter))?,?"
    r"[ \t]+(?i:" + _alt(N.FRENCH_STREET_TYPES) + r")[ \t]+(?:(?:de|du|des|la|le)[ \t]+"
    r"|[ld]['’]){0,2}" + _NW + r"(?:[ \t]+" + _NW + "){0,3}"
)  # fmt: skip
_STREET_BACK = re.compile(  # street name first, ending right before the house number
    r"(?<!\w)(?:(?i:" + _alt(N.STREET_WORDS_BEFORE) + "|(?:" + _alt(N.STREET_ABBREVIATIONS)
    + r")\.)[ \t]+(?:(?:de|del|della|di|da|do|dos|das|la|las|los|el|des|du)[ \t]+){0,2}" + _NW
    + r"(?:[ \t]+" + _NW + "){0,3}|(?:" + _NW + r"[ \t]+){1,2}(?i:" + _alt(N.STREET_WORDS_AFTER)
    + ")|[A-Z" + _CAPS + r"][\w\-]*(?i:" + _alt(N.STREET_SUFFIXES) + "))"
    r",?[ \t]*(?:(?:No|Nr|nº|n°|N°|Nº|n)\.?:?[ \t]*)?\Z"
)  # fmt: skip
_HOUSE = re.compile(r"\d{1,5}(?:[A-Za-z](?!\w))?(?:[-/]\d{1,5}[A-Za-z]?)?")
_CITY_STATE = re.compile(r"(?:" + _NW + r"[ \t]){0,2}" + _NW + r",[ \t]+([A-Z]{2})[ \t]+\Z")
_PO_BOX = re.compile(
    r"(?i)(?:p\.? ?o\.? ?box|post(?:fach|bus|boks)|post office box|apartado(?: de correos)?"
    r"|caixa postal|casilla|bo[iî]te postale|b\.p\.)[ \t:#]*\Z"
)
_SUFFIXES = (*N.STREET_SUFFIXES, "str")
_HOUSE_NO = _vary(frozenset(("no", "nr", "n", "nº", "n°")))
_STREET_WORDS = _vary(N.STREET_WORDS_BEFORE, N.STREET_WORDS_AFTER) | {
    a + "." for a in N.STREET_ABBREVIATIONS
}
_BOX_WORDS = _vary(N.PO_BOX_WORDS)
_FWD_NEXT = (b" A", b", A", b"A ", b" r", b" a", b" b", b" p", b" c", b" i", b" q")


# India: a flat, house or plot number, comma-separated parts (a building, a cross or main
# road, a locality), a town or state, then the 6-digit PIN code the caller found:
# Flat 302, Sai Krupa Apartments, 5th Cross, Indiranagar, Bengaluru, Karnataka 560038.
_IN_PART = (  # 5th Cross, Sai Krupa Apartments, Sector 21
    r"(?:\d{1,3}(?:st|nd|rd|th)[ \t]+)?" + _NW + r"(?:[ \t]+" + _NW + r"){0,4}"
    r"(?:[ \t]+\d{1,4}[A-Z]?)?"
)  # fmt: skip
_IN_ADDRESS = re.compile(
    r"(?<![\w\-])(?:(?:Flat|House|Plot|Door|Shop|Office|Apt|[HD]\.?[ ]?No)\.?[ \t]*(?:No\.?[ \t]*)?"
    r"#?[\w\-/]{1,8}|#[ \t]?[\w\-/]{1,8}|[A-Z]{1,2}-\d{1,4}[A-Z]?|\d{1,5}[A-Za-z]?(?:[-/]\d{1,5})?)"
    r",?[ \t]+(?:" + _IN_PART + r",[ \t]*){0,6}" + _IN_PART + r",?[ \t]*\Z"
)
_WORDS_RE = re.compile(r"[\w']+")


def _address(text: str, shape: bytes, cs: int, ce: int, words: list[str]) -> _Span | None:
    """A postal address around the short number ``cs:ce``: (start, end, detector) or None."""
    if shape.startswith(_FWD_NEXT, ce) and (m := _ADDR_FWD.match(text, cs)):
        return cs, m.end(), "address"
    street = not _STREET_WORDS.isdisjoint(words) or words[-1].rstrip(",:").endswith(_SUFFIXES)
    street |= words[-1] in _HOUSE_NO and len(words) > 1 and words[-2].endswith(_SUFFIXES)
    if street and (st := _STREET_BACK.search(text, max(0, cs - 64), cs)):
        return st.start(), _HOUSE.match(text, cs).end(), "address"  # type: ignore[union-attr]
    if words[-1] in _BOX_WORDS and (m := _PO_BOX.search(text, max(0, cs - 32), cs)):
        return m.start(), ce, "po_box"
    if shape[cs - 3 : cs] == b"AA " and ce - cs in (5, 10) and shape[cs + 5 : cs + 6] != b".":
        c = _CITY_STATE.search(text, max(0, cs - 48), cs)
        if c and c.group(1) in N.US_STATES:
            return c.start(), ce, "city_state_zip"
    if ce - cs == 6 and text[cs] != "0" and (m := _IN_ADDRESS.search(text, max(0, cs - 160), cs)):
        parts = set(_WORDS_RE.findall(m.group()))
        year = m.group()[:2] in ("19", "20") and m.group()[4:5] == ","  # "In 2019, Mumbai"
        if not year and not (
            N.IN_PLACES.isdisjoint(parts) and N.IN_LOCALITY_WORDS.isdisjoint(parts)
        ):
            return m.start(), ce, "address"
    return None


# --- addresses in Chinese, Japanese, Korean and Arabic script ---------------------------------

_HAN = "\u4e00-\u9fff"
# Chinese: administrative units (省/自治区/市, then 区/县), a street (路, 街, 大道 ...) and its
# number with 号, then maybe a building, floor or room: 北京市海淀区中关村大街27号1101室.
_CN_ADDRESS = re.compile(
    "(?:[" + _HAN + "]{2,6}?(?:省|自治区|市|区|县|旗)){1,4}"
    "[" + _HAN + r"\d]{1,12}?(?:路|街|大道|道|巷|弄|胡同)\d{1,5}(?:-\d{1,5})?号(?![线码])"
    "(?:[" + _HAN + r"A-Za-z]{0,12}?\d{1,5}(?:号楼|栋|幢|座|单元|楼|层|室)){0,3}"
)
_CN_PROVINCES = tuple(
    """黑龙江 内蒙古 哈尔滨 石家庄 呼和浩特 乌鲁木齐 齐齐哈尔 连云港 秦皇岛 张家口 北京 天津
    上海 重庆 河北 山西 辽宁 吉林 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 四川
    贵州 云南 陕西 甘肃 青海 台湾 广西 西藏 宁夏 新疆 香港 澳门""".split()
)
_CN_LEAD = "在到于是至往住寄送发为的址"  # words before an address, not part of it (寄到, 住在)
# Japanese without the 〒 mark: a prefecture, a city, ward, town or village, then the block
# numbers (4-1-1, 1丁目9番1号): 東京都世田谷区太子堂4-1-1.
_JP_PREFECTURES = """北海道 青森 岩手 宮城 秋田 山形 福島 茨城 栃木 群馬 埼玉 千葉 東京 神奈川 新潟
    富山 石川 福井 山梨 長野 岐阜 静岡 愛知 三重 滋賀 京都 大阪 兵庫 奈良 和歌山 鳥取 島根 岡山
    広島 山口 徳島 香川 愛媛 高知 福岡 佐賀 長崎 熊本 大分 宮崎 鹿児島 沖縄""".split()
_JP_ADDRESS_BARE = re.compile(
    "(?:北海道|東京都|(?:京都|大阪)府|(?:" + "|".join(_JP_PREFECTURES[1:]) + ")県)"
    "[\u3005\u3040-\u30ff" + _HAN + "]{1,10}?[市区町村郡]"
    "[\u3005\u3040-\u30ff" + _HAN + r"]{0,12}?\d{1,4}"
    r"(?:丁目(?:\d{1,4}(?:番地?(?:\d{1,4}号?)?)?)?|番地?(?:\d{1,4}号?)?|[-ー]\d{1,4}(?:[-ー]\d{1,4})?)"
)
# Korean: a province or metropolitan city, a city, district or county (시/군/구), maybe a
# neighbourhood, then a road (로/길) and its number, maybe a building and flat (101동 1203호):
# 서울특별시 강남구 테헤란로 152.
_KR_ADDRESS = re.compile(
    r"(?:[가-힣]{1,8}(?:특별시|광역시|특별자치시|특별자치도|도|시)[ \t]+)?"
    r"(?:[가-힣]{1,8}(?:시|군|구)[ \t]+){1,2}(?:[가-힣]{1,8}(?:읍|면|동)[ \t]+)?"
    r"[가-힣\d]{1,15}(?:로|길)[ \t]*\d{1,5}(?:-\d{1,5})?"
    r"(?![\d.]|[ \t]*(?:km|m\b|%|번|분|개|명|년|월|일|시간|미터|킬로))"
    r"(?:,?[ \t]*\d{1,5}동(?:[ \t]*\d{1,5}호)?|,?[ \t]*\d{1,5}호)?(?:[ \t]*\(우[ \t]*\d{5}\))?"
)
# Arabic: a street (طريق, شارع) or a district (حي), maybe a town, then a 5-digit postcode:
# طريق الملك فهد، حي العليا، الرياض 12214.
_AR_WORD = r"[\u0621-\u064a\u0671-\u06d3]{2,20}"
_AR_WORDS = _AR_WORD + r"(?:[ \t]+" + _AR_WORD + "){0,3}"
_AR_ADDRESS = re.compile(
    r"(?<![\u0621-\u064a])(?:(?:طريق|شارع)[ \t]+" + _AR_WORDS + r"(?:[ \t]+\d{1,5})?"
    r"(?:[،,][ \t]*حي[ \t]+" + _AR_WORDS + r")?|حي[ \t]+" + _AR_WORDS + ")"
    r"(?:[،,][ \t]*" + _AR_WORDS + r")?[،,]?[ \t]+\d{5}"
    r"(?![\d.,]|[ \t]*(?:ريال|دولار|جنيه|درهم|دينار|يورو))"
)


def _script_addresses(text: str, out: _Out) -> None:
    """Addresses written in Chinese, Japanese, Korean or Arabic script, which have no
    capitalised street words; each pattern runs only if a character it needs is in the text."""
    if "号" in text:
        for m in _CN_ADDRESS.finditer(text):
            first = min(i for i in (m.group().find(c) for c in "省市区县旗") if i >= 0)
            head = m.group()[:first]
            start = m.start() + max(0, first - 2)  # most cities have two-character names
            for name in _CN_PROVINCES:
                if (i := head.rfind(name)) >= 0 and i + len(name) == first:
                    start = m.start() + i
                    break
            while start < m.start() + first - 2 and text[start] in _CN_LEAD:
                start += 1
            out.append((start, m.end(), "address", 0.85, "address_cjk"))
    if "都" in text or "道" in text or "府" in text or "県" in text:
        for m in _JP_ADDRESS_BARE.finditer(text):
            out.append((m.start(), m.end(), "address", 0.85, "address_cjk"))
    if "로" in text or "길" in text:
        for m in _KR_ADDRESS.finditer(text):
            out.append((m.start(), m.end(), "address", 0.85, "address_cjk"))
    if ("ح" in text or "ط" in text or "ش" in text) and (
        "طريق" in text or "شارع" in text or "حي" in text
    ):  # one character first: a word is slower to look for in text outside Latin-1
        for m in _AR_ADDRESS.finditer(text):
            out.append((m.start(), m.end(), "address", 0.85, "address_ar"))


# --- names the capital-letter scanner cannot see ----------------------------------------------

# After "my name is" a name may be written in lower case ("my name is john smith"); after the
# same cue in Chinese, Japanese, Korean, Russian or Arabic it has no capital letters at all.
_LOWER_NAMED = re.compile(
    r"(?i)\bmy name(?: is|'s|’s)[ \t]+([a-z][a-z'\-]{1,30}(?:[ \t]+[a-z][a-z'\-]{1,30})?)\b"
)
_SCRIPT_NAMED = re.compile(
    r"(?:我叫|我的名字是|我的名字叫|私の名前は|わたしの名前は|제 이름은)[ \t]*"
    r"([\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7af]{2,6}?)"
    r"(?=[です입니다이에요예요，。,.!！\s]|$)"
    r"|(?i:меня зовут|моё имя|мое имя|my name is)[ \t]+"
    r"([А-ЯЁа-яё]{2,30}(?:[ \t]+[А-ЯЁа-яё]{2,30})?)"
    r"|(?:اسمي|إسمي)[ \t]+([\u0600-\u06ff]{2,30}(?:[ \t]+[\u0600-\u06ff]{2,30})?)"
)
# A form's name field (氏名, 姓名, 收货人, 성명 ...) followed by a colon or a space, and a
# Japanese self-introduction, where the name comes before the cue: 田中 美咲と申します.
_HAN_NAME = "[" + _HAN + "\u3005]{1,4}(?:[ \t\u3000][" + _HAN + "\u3005]{1,4})?"
_KANA_NAME = "[\u30a1-\u30fa\u30fc]{2,10}(?:[ \t\u3000\u30fb][\u30a1-\u30fa\u30fc]{2,10})?"
_FIELD_NAMED = re.compile(
    "(?:氏名|お名前|名前|姓名|收货人|收件人|联系人|联络人|寄件人|申请人|성명|이름)"
    r"(?:[ \t\u3000]*[:：][ \t\u3000]*|[ \t\u3000]+)"
    "(" + _HAN_NAME + "|" + _KANA_NAME + "|([가-힣]{2,4}))"
    "(?=[\\s,.;:!?()、。，；（）]|さん|様|씨|님|$)"
    "|(?<![" + _HAN + "\u3005])(" + _HAN_NAME + "|" + _KANA_NAME + ")と申します"
)
_NOT_FIELD_NAMES = tuple(
    """未設定 不明 未定 必須 任意 文字列 入力 空欄 匿名 変更 未知 无 不详 必填 选填
    列表 信息 电话 地址 없음 변경 입력 검색 필수 선택 미정""".split()
)
_KO_SURNAMES = frozenset(
    """김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 유 전 홍 고 문 양 손 배 백 허
    남 심 노 하 곽 성 차 주 우 구 민 진 나 지 엄 원 천 방 공 현 함 변 염 여 추 도 소 석 선 설
    마 길 연 위 표 명 기 반 왕 금 옥 육 인 맹 제 모 탁 국 어 은 편 용 예 경 봉 사 부""".split()
)
_FIELD_CUES = ("氏名", "名前", "姓名", "收货人", "收件人", "联系人", "联络人", "寄件人", "申请人")
_FIELD_CUES += ("성명", "이름", "と申します")
_NOT_LOWER_NAMES = frozenset(
    """not is was a an the on in at of for and but or to too also just still my your his her
    their our its this that what unknown private secret irrelevant hidden confidential none
    nothing here there different same important long short weird""".split()
)


def _named(text: str, shape: bytes, out: _Out) -> None:
    """Names right after "my name is" (or its translation) that have no capital letter."""
    if b"y name" in shape:
        for m in _LOWER_NAMED.finditer(text):
            words = m.group(1).split()
            if words[0].lower() in _NOT_LOWER_NAMES or words[0][0].isupper():
                continue  # "my name is not important"; a capitalised name is found elsewhere
            if len(words) > 1 and words[1].lower() in _NOT_LOWER_NAMES:
                words = words[:1]
            end = (
                m.start(1) + len(" ".join(words)) if len(words) > 1 else m.start(1) + len(words[0])
            )
            out.append((m.start(1), end, "person", 0.8, "name_cue"))
    if not text.isascii():
        for m in _SCRIPT_NAMED.finditer(text):
            g = next(i for i in (1, 2, 3) if m.group(i))
            out.append((m.start(g), m.end(g), "person", 0.8, "name_cue"))
        if ("名" in text or "人" in text or "성" in text or "이" in text or "申" in text) and any(
            c in text for c in _FIELD_CUES
        ):  # one character first: a word is slower to look for in text outside Latin-1
            for m in _FIELD_NAMED.finditer(text):
                g = 1 if m.group(1) else 3
                if m.group(g).startswith(_NOT_FIELD_NAMES):
                    continue  # 姓名：未知, 이름: 없음
                if (ko := m.group(2)) and (
                    ko[0] not in _KO_SURNAMES
                    or (
                        ":" not in text[m.start() : m.start(2)]
                        and text[m.end(2) : m.end(2) + 2].strip()[:1] not in ("님", "씨")
                    )
                ):
                    continue  # 이름 변경, 이름 정렬: a Korean name starts with a family name and
                    # follows a colon or comes before 님 or 씨
                end = m.end(g)
                if ko and len(ko) == 4 and ko[3] in "은는이가을를의에도":
                    end -= 1  # 김민준은: the particle after a name of three syllables
                out.append((m.start(g), end, "person", 0.8, "name_cue"))
