from rag.counts import counted, uncounted


def test_a_count_needs_the_same_counted_word_in_the_evidence():
    claim = "Drew Conway's startup Alluvium has two employees."
    assert uncounted(claim, "So the company is just about two years old.") == ["2 employees"]
    assert uncounted(claim, "Right now we have two employees, both engineers.") == []
    assert uncounted("There are 2 psychologists there.", "this is the phase two evaluations") == ["2 psychologists"]
    assert uncounted("There are 2 psychologists there.", "two psychologist hires") == []  # singular or plural


def test_the_counted_word_may_sit_a_little_apart_on_either_side():
    assert uncounted("We ended up with roughly 80,000 images.", "a data set of around 80,000 satellite images") == []
    assert uncounted("They had 80,000 satellite images.", "a data set of around 80,000 images") == []
    assert uncounted("They had 10,000 satellite images.", "a data set of around 80,000 images") == ["10000 satellite"]
    assert uncounted("It draws 20 watts.", "the brain runs on about twenty watts") == []  # spelled out in speech


def test_names_years_percentages_function_words_and_the_question_are_not_checked():
    text = "Their Inception V3 model ran on GPT-4 and COVID-19 data in 2016 he said, 25% of the time, two of them."
    assert uncounted(text, "nothing at all") == []
    assert uncounted("The two properties were haze and cleaning.", "haze versus cleaning", ignore={2.0}) == []
    assert counted("the fourth and the fifth metal layer") == []  # ordinals are read by rag.numbers, not here


def test_words_that_only_contain_a_number_and_a_spelled_one_are_no_counts():
    assert counted("easier than shallow ones by far, someone said, in the 1990s") == []
    assert uncounted("One reason is the cost.", "the main reason is the cost") == []
    assert uncounted("It had 1 reason.", "the main reason is the cost") == ["1 reason"]
