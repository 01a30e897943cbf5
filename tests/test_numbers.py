import pytest

from rag.numbers import extract_numbers, unsupported_numbers


@pytest.mark.parametrize(
    "text, value",
    [
        ("わずか5.5百万ドル", 5.5e6),
        ("550万ドル", 5.5e6),
        ("5.5 million dollars", 5.5e6),
        ("5,5 millions de dollars", 5.5e6),
        ("5,000億ドル", 5e11),
        ("500 billion", 5e11),
        ("$500B", 5e11),
        ("500 milliards", 5e11),
        ("3,400億ドル", 3.4e11),
        ("340 billion", 3.4e11),
        ("800億ドル", 8e10),
        ("80 billion", 8e10),
        ("2000台", 2000),
        ("2,000 GPUs", 2000),
        ("10万人", 1e5),
        ("100,000 subscribers", 1e5),
        ("100 000 abonnés", 1e5),
        ("27ワット", 27),
        ("1994年", 1994),
        ("１９９４年", 1994),
        ("6兆ドル", 6e12),
    ],
)
def test_values(text, value):
    assert value in extract_numbers(text)


def test_no_numbers_inside_names_are_lost_or_invented():
    assert extract_numbers("NVIDIA H800 GPU") == []  # part of a name, not a quantity
    assert extract_numbers("o3-mini and Gemini 2.0 Pro") == [2.0]


def test_claim_against_evidence():
    evidence = (
        "アブダビの投資ファンドMGXは、現金で1,000億ドルを準備している。同時に5,000億ドルという途方もない投資額です。"
    )
    assert unsupported_numbers("The investment is 500 billion dollars [1].", evidence) == []
    assert unsupported_numbers(
        "Stargateの投資額は約1,000億ドルです。", "同時に5,000億ドルという途方もない投資額です。"
    ) == [1e11]
    assert unsupported_numbers("It used 2000 GPUs [2].", evidence, ignore={2.0}) == [2000]


def test_japanese_large_numbers_are_rescaled_for_answers_in_other_languages():
    from rag.numbers import extract_numbers, rescale_japanese_numbers

    text = "企業価値は3,000億から3,400億ドルです。5.5百万ドルで、10万人、2000台。"
    english = rescale_japanese_numbers(text, "en")
    assert english == "企業価値は300 billion to 340 billion dollars です。5.5 million dollars で、100,000 人、2000台。"
    french = rescale_japanese_numbers(text, "fr")
    assert (
        "300 milliards à 340 milliards de dollars" in french
        and "5,5 millions de dollars" in french
        and "100\u202f000 人" in french
    )
    assert rescale_japanese_numbers(text, "ja") == text
    for rescaled in (english, french):  # the same values, written another way
        assert extract_numbers(rescaled) == extract_numbers(text)


def test_numbers_spelled_out_in_the_evidence_support_digits_in_a_claim():
    from rag.numbers import spoken_numbers

    assert spoken_numbers("it maps them to eight different emotional states") == [8]
    assert spoken_numbers("around forty five thousand images, two hundred and fifty people") == [45000, 250]
    assert spoken_numbers("soixante-dix, quatre-vingt-dix") == [70, 90]
    assert spoken_numbers("二十種類の表情と八つの感情") == [20, 8]
    assert unsupported_numbers("20 expressions, 8 states", "20 different facial expressions ... eight states") == []
    assert unsupported_numbers("9 states", "eight states") == [9]
    assert unsupported_numbers("eight states", "8 states") == []  # a claim's words are not read as numbers


def test_ordinals_spoken_in_the_evidence_support_digits():
    from rag.numbers import spoken_numbers

    assert spoken_numbers("between the fourth and the fifth metal layer") == [4, 5]
    assert spoken_numbers("the twenty-fifth time, la troisième fois") == [25, 3]
    assert spoken_numbers("first of all, give me a second") == []  # seldom numbers in speech
    assert (
        unsupported_numbers("第4金属層と第5金属層の間にあります。", "between the fourth and the fifth metal layer")
        == []
    )
    assert unsupported_numbers("Between the 4th and 6th layers.", "between the fourth and the fifth metal layer") == [6]
