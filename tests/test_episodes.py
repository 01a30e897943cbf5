import numpy as np

from rag.episodes import EpisodeNames, name_words

TITLES = [
    "Twiml 391 computer vision for remote AR with Flora Tasse",
    "Twiml 378 the physics of data with Alpha Lee",
    "Twiml 393 what the data tells us about COVID-19 with Eric Topol",
]
ROWS = [(0, 3), (3, 5), (5, 9)]


def test_the_question_names_pick_the_transcript_by_the_rarest_words():
    episodes = EpisodeNames.build(TITLES, ROWS)
    scores = episodes.transcript_scores("According to Flora Tasse, how much data do remote pros need?")
    assert scores.tolist() == [1.0, 0.0, 0.0]
    both = episodes.transcript_scores("Did Alpha Lee ever meet Eric Topol?")
    assert both.tolist() == [0.0, 1.0, 1.0]
    rows = np.array([0, 4, 8, 2])
    assert episodes.row_scores("Ask Flora Tasse", rows).tolist() == [1.0, 0.0, 0.0, 1.0]


def test_words_that_are_no_names_or_in_every_title_match_nothing():
    episodes = EpisodeNames.build(TITLES, ROWS)
    assert not episodes.transcript_scores("what does the data tell us about physics?").any()  # no names
    assert not episodes.transcript_scores("Which Twiml episode is it?").any()  # in every title
    assert not episodes.transcript_scores("Is GPT-391 any good?").any()  # digits alone are episode numbers
    assert not EpisodeNames.build(TITLES[:1], ROWS[:1]).transcript_scores("Flora Tasse").any()  # one transcript


def test_katakana_names_and_speaker_lists_count():
    episodes = EpisodeNames.build(["フローラ・タッセの話", "アルファ・リーとの対談 Speakers: Sam"], [(0, 1), (1, 2)])
    assert episodes.transcript_scores("フローラ・タッセは何と言いましたか？").tolist() == [1.0, 0.0]
    assert episodes.transcript_scores("What did Sam ask?").tolist() == [0.0, 1.0]
    assert name_words("Éric Topol, ep. 393") == {"éric", "topol", "ep"}


def test_a_name_of_several_words_needs_half_of_them_in_the_title():
    episodes = EpisodeNames.build(["AI and society with Peter Norvig", "What the data tells us with Eric To"], ROWS[:2])
    assert not episodes.transcript_scores("What does the Royal Statistical Society say?").any()  # 1 word of 3
    assert episodes.transcript_scores("What did Eric Topol find?").tolist() == [0.0, 1.0]  # a file name cut short
    assert episodes.transcript_scores("Ask Peter Norvig").tolist() == [1.0, 0.0]


def test_name_phrases_join_neighbouring_names():
    from rag.names import name_phrases

    text = "According to Laurence Watson, of Carbon Tracker, did Mike McCourt say so? [1]"
    assert name_phrases(text) == ["Laurence Watson", "Carbon Tracker", "Mike McCourt"]
    assert name_phrases("Streemの研究者フローラ・タッセが共同創業したスタートアップは？") == [
        "Streem",
        "フローラ・タッセ",
        "スタートアップ",
    ]


def test_a_katakana_name_picks_the_title_that_spells_it_in_latin_letters():
    titles = ["Optimization school with Mike McCourt", "Data science with Eric Topol", "Data at scale, Ray Lee"]
    said_in = {"data": 3, "science": 3, "scale": 2, "mike": 1, "mccourt": 1, "eric": 1, "topol": 1, "lee": 1}
    episodes = EpisodeNames.build(titles, ROWS, lambda word, _: said_in.get(word, 0))
    assert episodes.transcript_scores("マイク・マコートは何と言いましたか？").tolist() == [1.0, 0.0, 0.0]
    assert episodes.transcript_scores("エリック・トポルのグループは？").tolist() == [0.0, 1.0, 0.0]
    assert not episodes.transcript_scores("トポルのグループは？").any()  # a lone katakana word: as often a loanword
    assert not episodes.transcript_scores("レイ・リーによると？").any()  # one consonant ("r") matches nothing
    assert not episodes.transcript_scores("データサイエンスとは？ データは？").any()  # loanwords: said everywhere
    assert episodes.named_words("マイク・マコートによると？") == {
        "マイク",
        "mike",
        "マコート",
        "mccourt",
    }  # out of BM25
    without_speech = EpisodeNames.build(titles, ROWS)  # no index text to tell names from loanwords
    assert not without_speech.transcript_scores("マイク・マコートは何と言いましたか？").any()


def test_a_katakana_name_opening_a_mostly_latin_text_is_a_name():
    from rag.names import name_phrases

    question = "メリカ・パイヴァンドが協力している研究所は？ Which lab does Melika Payvand work with in France?"
    assert name_phrases(question)[0] == "メリカ・パイヴァンド"


def test_stop_words_and_words_said_everywhere_in_real_speech_are_no_names():
    from rag.episodes import episode_names
    from rag.lexical import BM25

    class Said:
        def __init__(self, title):
            self.title = title

    titles = ["Pandas with Wes McKinney", "Robots with Aditya", "Vision with Cynthia", "About data"]
    speech = ["Wes McKinney built pandas.", "Data data data.", "Data everywhere.", "More data."]
    transcripts = {f"t{i}": Said(t) for i, t in enumerate(titles)}
    rows = {f"t{i}": (i, i + 1) for i in range(4)}
    episodes = episode_names(transcripts, rows, BM25.build(speech))
    assert episodes.transcript_scores("ウェス・マッキニーによると？").tolist() == [1.0, 0.0, 0.0, 0.0]  # not "with"
    assert not episodes.transcript_scores("ボット・アバウトとは？").any()  # "about", "with": stop words
    assert episodes.named_words("ウェス・マッキニーによると？") == {"ウェス", "マッキニー", "wes", "mckinney"}


def test_a_short_given_name_still_makes_a_full_name():
    episodes = EpisodeNames.build(["Chatbots with Sam Altman", "Vision with Eric Topol"], ROWS[:2], lambda word, _: 1)
    assert episodes.transcript_scores("サム・アルトマンは何と言いましたか？").tolist() == [1.0, 0.0]  # サム: 2 kana
