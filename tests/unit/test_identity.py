from daemon.identity import (
    Me,
    decode_words,
    merge_key,
    nice_name,
    normalize_address,
    normalize_name,
    parse_address_list,
)


def test_addresses_are_lowercased_and_unwrapped():
    assert normalize_address(" <Jane.Doe@Example.ORG> ") == "jane.doe@example.org"
    assert normalize_address("not an address") == ""


def test_pipermail_obfuscated_addresses_are_restored():
    assert normalize_address("jane at example.org") == "jane@example.org"


def test_non_rfc_addresses_like_enrons_are_still_read():
    assert parse_address_list("k..allen@enron.com") == [("", "k..allen@enron.com")]


def test_plus_tags_merge_everywhere_but_dots_only_for_gmail():
    assert merge_key("jane+news@example.org") == "jane@example.org"
    assert merge_key("j.a.n.e@gmail.com") == merge_key("jane@googlemail.com") == "jane@gmail.com"
    assert merge_key("j.ane@example.org") != merge_key("jane@example.org")


def test_name_forms_compare_equal():
    assert normalize_name("Doe, Jane") == normalize_name("Jane Doe") == normalize_name('"jane  DOE"')
    assert normalize_name("=?utf-8?q?Jane_Doe?=") == normalize_name("Jane Doe")


def test_rfc2047_and_broken_encodings_do_not_crash():
    assert decode_words("=?utf-8?q?J=C3=BCrgen?=") == "Jürgen"
    assert decode_words("=?bogus-charset?q?x?=") == "=?bogus-charset?q?x?="


def test_display_names_are_cleaned_of_control_and_bidi_characters():
    pairs = parse_address_list('"Eve\u202e\r\nBcc: x@evil.example" <eve@example.org>')
    assert pairs[0][1] == "eve@example.org"
    assert "\r" not in pairs[0][0] and "\n" not in pairs[0][0] and "\u202e" not in pairs[0][0]
    assert nice_name("Doe, Jane", "jane@x.example") == "Jane Doe"


def test_me_matches_plus_tags_and_gmail_dots():
    me = Me(["alex.m@gmail.com", "alex@work.example"])
    assert "alexm+lists@gmail.com" in me
    assert "ALEX@work.example" in me
    assert "alex@other.example" not in me


def test_huge_recipient_lists_are_bounded():
    header = ", ".join(f"user{i}@example.org" for i in range(30000))
    assert len(parse_address_list(header, limit=5000)) == 5000


from email.utils import getaddresses  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from daemon.identity import _fast_split  # noqa: E402

_atom = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-+", min_size=1, max_size=12)
_name = st.text("abcdefghij KLMNOP,.'-äöü=?", max_size=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_name, _atom, _atom, st.sampled_from(["plain", "angle", "named", "quoted"])), min_size=1, max_size=5))
def test_the_fast_address_path_agrees_with_the_rfc_parser_whenever_it_answers(entries):
    parts = []
    for name, local, host, shape in entries:
        addr = f"{local}@{host}.example"
        parts.append({"plain": addr, "angle": f"<{addr}>", "named": f"{name} <{addr}>", "quoted": f'"{name}" <{addr}>'}[shape])
    value = ", ".join(parts)
    fast = _fast_split(value)
    if fast is not None:  # entries without an address are dropped by the caller either way
        assert fast == [(n.strip(), a) for n, a in getaddresses([value]) if a]


_MINE = ["alex.m@gmail.com", "alex@work.example", "a@Ünï.example"]
_variant = st.tuples(
    st.sampled_from(["alex.m", "alexm", "a.l.e.x.m", "alex", "a", "bob", "ALEX", "Ａlex", ""]),
    st.sampled_from(["", "+tag", "+"]),
    st.sampled_from(["gmail.com", "googlemail.com", "GMail.com", "work.example", "work.example.", "WORK.example",
                     "ünï.example", "ÜNÏ.example", "other.example", "work.example.org", "gmail.co", ""]),
    st.sampled_from(["{}@{}", "<{}@{}>", " {}@{} ", "{} at {}", "'{}@{}'", "{}@@{}", "{} {}"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(_variant, max_size=8), st.lists(st.sampled_from(_MINE), max_size=3))
def test_mine_among_many_addresses_agrees_with_asking_one_by_one(variants, mine):
    me = Me(mine)
    addresses = [shape.format(local + tag, domain) for local, tag, domain, shape in variants]
    assert me.among(addresses) == [a in me for a in addresses]


def test_mine_among_finds_my_addresses_in_their_other_forms():
    me = Me(_MINE)
    assert me.among(["alexm+x@googlemail.com", "alex at WORK.example", "bob@work.example", "a@ÜNÏ.example"]) == [
        True, True, False, True]


_TRICKY = " \t\n\r\x0b\x0c\x1c\x1f\x7f\x85\xa0\u1680\u2000\u200a\u200b\u200d\u200f\u2028\u2029\u202a\u202e\u202f\u205f" \
          "\u2066\u2069\u3000\ufeff\u00ad"


@settings(max_examples=1000, deadline=None)
@given(st.text(st.one_of(st.sampled_from(_TRICKY), st.characters()), max_size=20))
def test_clean_text_is_the_control_strip_and_white_space_fold(text):
    from daemon.identity import _CONTROL, clean_text

    assert clean_text(text) == " ".join(_CONTROL.sub(" ", text).split())


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(list("\"'()[]<>@,=?; \t\x1f\x7f.-_")), st.characters(max_codepoint=0x7f),
                          st.sampled_from(["=?utf-8?q?Jane_Doe?=", "Doe, Jane", "Ｊane", "Zoë", "佐藤", "Jane DOE"])),
                max_size=12).map("".join))
def test_plain_names_take_a_shorter_way_to_the_same_form(name):
    """A printable ASCII name with no encoded word, quote, bracket, address or comma skips the
    steps that would not change it; any other name takes them all."""
    from daemon.identity import normalize_name_in_full

    assert normalize_name.__wrapped__(name) == normalize_name_in_full(name)
