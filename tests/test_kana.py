import pytest

from rag.kana import kana_key, latin_key


@pytest.mark.parametrize(
    "kana, latin",
    [
        ("マコート", "McCourt"),  # doubled c, an r closing a syllable
        ("マイク", "Mike"),
        ("フローラ", "Flora"),  # f/h, l/r
        ("タッセ", "Tasse"),  # small tsu, doubled s
        ("ラシュカ", "Raschka"),  # sch
        ("パイヴァンド", "Payvand"),  # ヴ/v
        ("トポル", "Topol"),  # a closing l is written ル
        ("コンウェイ", "Conway"),  # ウェ is "we"
        ("ドリュー", "Drew"),
        ("スピーゲルハルター", "Spiegelhalter"),
        ("ローレンス", "Laurence"),  # a soft c
        ("ワトソン", "Watson"),
        ("エリック", "Éric"),  # accents dropped
    ],
)
def test_a_katakana_name_has_the_sound_key_of_its_latin_spelling(kana, latin):
    assert kana_key(kana) == latin_key(latin) != ""


def test_different_names_and_other_scripts_do_not_match():
    assert kana_key("ラシュカ") != latin_key("research")  # sch and ch are not the same sound
    assert kana_key("マイク") != latin_key("mach")
    assert kana_key("トポル") != latin_key("typical")
    assert kana_key("Topol") == "" and latin_key("トポル") == "" and latin_key("GPT-4") == ""


def test_words_that_sound_alike_share_a_key():
    assert kana_key("マーケット") == latin_key("market") == kana_key("マコート")  # rag.episodes tells names apart
