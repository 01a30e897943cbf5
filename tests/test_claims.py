import numpy as np

from rag.answer import ask, ask_stream
from rag.claims import check_claims, is_meta
from rag.context import Passage
from rag.ingest import split_sentences
from rag.lang import REFUSALS

from .conftest import FakeEmbedder, FakeGenerator


class SameVector:
    """Every text gets the same vector: similarity never decides, numbers do."""

    def embed_queries(self, texts):
        return np.ones((len(texts), 4), dtype=np.float32) / 2

    embed_passages = embed_queries


class Transcript:
    def __init__(self, text, title=""):
        self.text, self.title = text, title


TEXT = "アブダビの投資ファンドMGXは、現金で1,000億ドルを準備しています。同時に5,000億ドルという途方もない投資額です。"


def passages_of(text):
    sentences = split_sentences(text)
    one = Passage(
        "t", sentences[0].start, sentences[0].end, text[: sentences[0].end], (sentences[0],), ("t#0",), 0.0, 1
    )
    two = Passage(
        "t", sentences[1].start, sentences[1].end, text[sentences[1].start :], (sentences[1],), ("t#1",), 0.5, 2
    )
    return [one, two]


def test_numbers_decide_and_wrong_citations_are_re_pointed():
    passages = passages_of(TEXT)
    checks = check_claims(
        [
            ("The investment is 500 billion dollars.", [1]),
            ("MGX has 100 billion dollars in cash.", [1]),
            ("It costs 7 trillion.", [2]),
        ],
        passages,
        {"t": Transcript(TEXT)},
        SameVector(),
        question="Stargateの投資額は？",
    )
    first, second, third = checks
    assert first.supported and first.support == 2 and first.cited == (1,)  # re-pointed to the passage with 5,000億
    assert TEXT[first.quote.start : first.quote.end].startswith("同時に5,000億ドル")
    assert first.missing == (5e11,)  # what the cited passage lacked
    assert second.supported and second.support == 1
    assert not third.supported and third.support is None and third.missing == (7e12,)


def test_numbers_stated_in_the_question_need_no_support():
    passages = passages_of(TEXT)
    [check] = check_claims(
        [("In 2024 it was 1,000億ドル.", [1])], passages, {"t": Transcript(TEXT)}, SameVector(), "What about 2024?"
    )
    assert check.supported


def test_meta_sentences_are_not_claims():
    assert is_meta("This is mentioned in passage [1].") and is_meta("これは[1]の文節から引用できます。")
    assert not is_meta("The passage of time cost 5,000億ドル.")
    checks = check_claims(
        [("This is stated in passage [2].", [2])], passages_of(TEXT), {"t": Transcript(TEXT)}, SameVector()
    )
    assert checks == []


def test_unsupported_answer_becomes_a_refusal_with_closest_passages(fake_settings, fake_index):
    answer = ask(
        "Stargateの投資額は？",
        fake_index,
        FakeEmbedder(),
        FakeGenerator("投資額は9兆9999億ドルです[1]。"),
        fake_settings.replace(second_chance=0),
    )
    assert answer.refused and answer.answer == REFUSALS["ja"] and answer.citations == []
    assert [c.supported for c in answer.claims] == [False] and answer.removed_claims[0].missing
    assert answer.passages and answer.streamed == "投資額は9兆9999億ドルです[1]。"


class TwoAnswers(FakeGenerator):
    """Gives one answer, then another (None: passage [1]'s first sentence), recording each prompt."""

    def __init__(self, first: str, second: str | None):
        super().__init__(first)
        self.answers, self.prompts = [first, second], []

    def stream(self, messages, max_tokens, temperature):
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        answer = self.answers[len(self.prompts) - 1]
        self.answer = answer or prompt.split("[1] ", 1)[1].split("。", 1)[0] + "。[1]"
        yield from super().stream(messages, max_tokens, temperature)


def test_an_unsupported_answer_gets_a_second_chance_with_the_next_passages(fake_settings, fake_index):
    from rag.lang import READING_FURTHER

    generator = TwoAnswers("投資額は9兆9999億ドルです[1]。", None)
    items = list(ask_stream("Stargateの投資額は？", fake_index, FakeEmbedder(), generator, fake_settings))
    answer, streamed = items[-1], "".join(items[:-1])
    assert len(generator.prompts) == 2
    first_ids = {h.chunk.id for h in answer.attempts[0].hits}
    assert answer.hits is answer.attempts[1].hits  # the answer's passages and hits come from the attempt that answered
    assert first_ids.isdisjoint(c for p in answer.passages for c in p.chunk_ids)  # the next passages, not the same
    assert READING_FURTHER["ja"] in streamed and streamed.startswith("投資額は9兆")
    assert not answer.refused and answer.answer.split("[")[0] in generator.prompts[1] and answer.citations
    assert answer.citations[0].text == answer.passages[answer.citations[0].n - 1].text
    assert [c.supported for c in answer.claims] == [False, True]  # the first attempt's claim is listed as removed
    assert answer.removed_claims[0].text.startswith("投資額は9兆")


def test_a_second_unsupported_answer_is_a_refusal(fake_settings, fake_index):
    generator = TwoAnswers("投資額は9兆9999億ドルです[1]。", "投資額は8兆ドルです[1]。")
    answer = ask("Stargateの投資額は？", fake_index, FakeEmbedder(), generator, fake_settings)
    assert len(generator.prompts) == 2 and answer.refused and answer.answer == REFUSALS["ja"]


def test_supported_claims_stay_and_unsupported_are_removed(fake_settings, fake_index):
    streamed = "同時に5,000億ドルという途方もない投資額です[1]。MGXは9兆ドルを持っています[1]。"
    answer = ask("Stargateの投資額は5,000億ドル？", fake_index, FakeEmbedder(), FakeGenerator(streamed), fake_settings)
    assert not answer.refused
    assert "5,000億ドル" in answer.answer and "9兆" not in answer.answer
    assert [c.text for c in answer.removed_claims] == ["MGXは9兆ドルを持っています。"]
    assert all(c.supported and c.quote in c.text for c in answer.citations)
    data = answer.to_json()
    assert [c["supported"] for c in data["claims"]] == [True, False]
    assert all({"supported", "score"} <= set(c) for c in data["citations"])


def test_uncited_claims_inherit_the_paragraph_citation():
    from rag.claims import inherit_citations

    claims = [("A.", []), ("B.", [2]), ("C.", []), ("D.", [1]), ("E.", [])]
    assert inherit_citations(claims) == [("A.", [2]), ("B.", [2]), ("C.", [1]), ("D.", [1]), ("E.", [1])]


def test_a_figure_from_a_neighbouring_context_does_not_count():
    text = "MGXは現金で1,000億ドルを準備しています。天気の話です。猫の話です。犬の話です。Stargateは5,000億ドルの投資です。"
    sentences = split_sentences(text)
    passage = Passage("t", 0, len(text), text, tuple(sentences), ("t#0",), 0.0, 1)

    class Similar(SameVector):
        def embed_passages(self, texts):  # only the Stargate sentence resembles the claim
            return np.array([[1.0, 0, 0, 0] if "Stargate" in t else [0, 1.0, 0, 0] for t in texts], dtype=np.float32)

        def embed_queries(self, texts):
            return np.array([[1.0, 0, 0, 0]] * len(texts), dtype=np.float32)

    [check] = check_claims(
        [("Stargateの投資額は1,000億ドルです。", [1])], [passage], {"t": Transcript(text)}, Similar()
    )
    assert not check.supported and check.missing == (1e11,)


def test_names_count_only_within_one_language():
    text = "この記者会見で、名前は1994年のSF映画「スターゲート」にちなんで付けられたと述べています。"
    sentences = split_sentences(text)
    passage = Passage("t", 0, len(text), text, tuple(sentences), ("t#0",), 0.0, 1)
    transcripts = {"t": Transcript(text)}
    [english] = check_claims([("The name Stargate comes from a 1994 film.", [1])], [passage], transcripts, SameVector())
    assert english.supported  # transliterated across scripts: not held against the claim
    [japanese] = check_claims(
        [("Stargateという名前は1994年の映画から来ています。", [1])], [passage], transcripts, SameVector()
    )
    assert not japanese.supported and "Stargate" in japanese.missing
    [aliased] = check_claims(
        [("Stargateという名前は1994年の映画から来ています。", [1])],
        [passage],
        transcripts,
        SameVector(),
        aliases={"Stargate": ["スターゲート"]},
    )
    assert aliased.supported


def test_latin_names_are_checked_across_languages_against_latin_script_speech():
    text = "We have a partner company called Higher View. They use our technology to assess video interviews."
    sentences = split_sentences(text)
    passage = Passage("t", 0, len(text), text, tuple(sentences), ("t#0",), 0.0, 1)
    transcripts = {"t": Transcript(text)}

    def check(claim):
        return check_claims([(claim, [1])], [passage], transcripts, SameVector())[0]

    assert not check("採用分野のパートナー企業の名前は DreamCraft です。").supported  # invented, in Latin letters
    assert check("採用分野のパートナー企業の名前は Higher View です。").supported
    assert check("提携企業はハイアービューです。").supported  # katakana: transliterated, not held against it
    assert not check("L'entreprise partenaire s'appelle DreamCraft.").supported
    assert check("L'entreprise partenaire s'appelle Higher View.").supported


def test_a_role_the_passage_gives_someone_else_is_not_supported():
    from rag.claims import misassigned_roles, role_bindings

    passage = "OpenAIのCEO、Sam AltmanがRedditでQ&Aを行いました。MuskはOpenAIの創設者の一人です。"
    aliases = {"DeepSeek": ["DepSIC"]}
    assert role_bindings(passage) == {("openai", "ceo"), ("openai", "founder")}
    assert misassigned_roles("DepSICのCEOの名前はSam Altmanです。", passage, aliases) == ["depsic ceo"]
    assert misassigned_roles("Le PDG de DeepSeek est Sam Altman.", passage, aliases) == ["deepseek ceo"]
    assert misassigned_roles("OpenAI's CEO, Sam Altman, held a Q&A.", passage, aliases) == []
    assert misassigned_roles("Musk is one of the founders of OpenAI.", passage, aliases) == []
    assert misassigned_roles("DepSICの創業者は誰ですか", "DeepSeekの創業者は梁文鋒です。", aliases) == []  # alias
    assert misassigned_roles("Google's CEO spoke.", "Google spoke.", aliases) == ["google ceo"]  # a role needs a source


def talk_ending_with(opening: str, passage_text: str, title: str) -> tuple[Passage, dict]:
    """A transcript of an opening, filler and then the passage (the one retrieved), far from the opening."""
    text = opening + "Filler sentence about nothing. " * 40 + passage_text
    start = text.index(passage_text)
    passage = Passage(
        "t", start, len(text), passage_text, tuple(split_sentences(text[start:], start)), ("t#9",), 0.9, 1
    )
    return passage, {"t": Transcript(text, title=title)}


def test_a_role_counts_when_the_video_states_it_and_never_from_the_question():
    passage, transcripts = talk_ending_with(
        "My guest is Rana el Kaliouby, CEO of Affectiva. ",
        "We have a partner company called Higher View.",
        "Emotion AI",
    )
    question = "感情AI企業 Affectiva の CEO が紹介した採用分野のパートナー企業の名前は? Who is Google's CEO?"
    claims = [
        ("Affectiva の CEO が紹介したパートナー企業の名前は Higher View です。", [1]),  # the intro states the role
        ("Google's CEO named a partner company called Higher View.", [1]),  # stated by the question alone
    ]
    checks = check_claims(claims, [passage], transcripts, SameVector(), question=question)
    assert [c.supported for c in checks] == [True, False]
    assert checks[1].missing == ("google ceo",)


def test_a_role_the_passage_gives_someone_else_is_not_looked_for_elsewhere_in_the_video():
    passage, transcripts = talk_ending_with(
        "Liang Wenfeng is the CEO of DeepSeek. ", "Sam Altman, OpenAI's CEO, said prices will fall.", "AI news"
    )
    claims = [("DeepSeek's CEO said prices will fall.", [1]), ("OpenAI's CEO said prices will fall.", [1])]
    checks = check_claims(claims, [passage], transcripts, SameVector())
    assert [c.supported for c in checks] == [False, True]
    assert checks[0].missing == ("deepseek ceo",)


def test_names_count_when_the_video_or_the_question_has_them():
    from rag.claims import names_in

    passage, transcripts = talk_ending_with(
        "Welcome, Rana el Kaliouby of Affectiva. ",
        "It maps them to eight different emotional states.",
        "Emotion AI with Rana el Kaliouby",
    )
    claims = [
        ("According to Rana el Kaliouby, the algorithm maps them to 8 emotional states.", [1]),  # name in the talk
        ("Yes, Affectiva maps them to eight states.", [1]),  # "Yes" opens the sentence: no name
        ("Based on Drew Conway's work, it maps them to 8 states.", [1]),  # a name from another video
    ]
    checks = check_claims(claims, [passage], transcripts, SameVector(), question="What does Affectiva's Drew do?")
    assert [c.supported for c in checks] == [True, True, False]
    assert checks[2].missing == ("Conway",)  # "Drew" is in the question
    assert names_in("Yes. PostEra and OpenAI, not Based.") == ["PostEra", "OpenAI", "Based"]


def test_the_question_vouches_for_its_names_only_in_a_video_that_says_one_of_them():
    from rag.claims import video_says_a_name_of

    passage, transcripts = talk_ending_with(
        "My guest today leads computer vision at Stream. ",
        "It lasted two years and a half before the acquisition.",
        "Computer vision for remote AR",
    )
    video = f"{transcripts['t'].title}\n{transcripts['t'].text}"
    streem = "How long did the startup last before Streem bought it?"
    assert video_says_a_name_of(streem, video, {})  # misheard "Stream", found by its sound
    assert video_says_a_name_of("Did OpenAI buy it?", "Then open AI bought it.", {})  # written in two
    assert not video_says_a_name_of("How long did Alpha Lee's startup last?", video, {})
    assert not video_says_a_name_of("Did Alpha Lee sleep?", "We sleep on the alphabet.", {})  # whole words only
    assert not video_says_a_name_of("Did Tasse's startup last long?", "Flora Tase works here.", {})  # too short
    assert not video_says_a_name_of("Did Raschka finish the book?", "Risk is high. There is a risk.", {})
    assert not video_says_a_name_of("Is COVID-19 over?", "I was 19 then.", {})  # a number is no name

    def check(claim, question):
        return check_claims([(claim, [1])], [passage], transcripts, SameVector(), question=question)[0]

    assert check("Streem bought the startup after two years and a half.", streem).supported
    wrong_video = check("Alpha Lee's startup lasted two years and a half.", "How long did Alpha Lee's startup last?")
    assert not wrong_video.supported and set(wrong_video.missing) == {"Alpha", "Lee"}
    apple = check("Apple bought it after two years and a half.", "What did Apple buy?")  # opens the sentence
    assert not apple.supported and apple.missing == ("Apple",)


def test_a_name_of_several_words_must_be_written_so_not_only_word_by_word():
    from rag.claims import missing_names

    video = "The Scripps Research Translational Institute runs a smartwatch study. It looks for COVID-19 clusters."
    invented = "The study is called the Scripps Research Translational Institute Smartwatch Study."
    assert missing_names(invented, video, {}) == ["Scripps Research Translational Institute Smartwatch Study"]
    assert missing_names("The Scripps Research Translational Institute runs it.", video, {}) == []
    assert missing_names("Scripps runs a study on COVID-19.", video, {}) == []
    assert missing_names("The Scripps Stanford Institute runs it.", video, {}) == ["Stanford"]  # reported once
    assert missing_names("Then COVID-19 hit the Scripps Research institute.", video, {}) == []  # two words
    assert missing_names("Google DeepMind helped.", "Google bought DeepMind.", {}) == []  # two names composed
    ordinal = "Their method makes age predictions rank-consistent. We check the range of each age label."
    assert missing_names("Age Range Check", ordinal, {}) == ["Age Range Check"]  # its first word opens it
    assert missing_names("Age Range Check is the method.", ordinal, {}) == ["Age Range Check"]
    assert missing_names("Scripps Research Translational Institute runs it.", video, {}) == []


def test_sentences_about_where_something_is_said_are_not_claims():
    from rag.claims import is_meta

    assert (
        is_meta("これはで述べられています。")
        and is_meta("This is stated in passage.")
        and is_meta("This was mentioned.")
    )
    assert not is_meta("Sam Altmanは、OpenAIが歴史の間違った側にいたと述べられています。")  # an answer, said that way
    assert not is_meta("It is mentioned that 27 watts are used.")  # a figure makes it a claim


def test_a_sentence_that_only_repeats_the_question_is_no_claim():
    from rag.claims import adds_nothing

    question = "Before she joined Streem, Flora Tasse co-founded a startup that Streem acquired. What was it?"
    assert adds_nothing("Before she joined Streem, Flora Tasse co-founded a startup that Streem acquired.", question)
    assert not adds_nothing("The startup was Selerio.", question)
    assert not adds_nothing("Yes, Flora Tasse has seen such products.", "Has Flora Tasse seen any such products?")
    assert not adds_nothing("同社は20種類の表情を識別できます。", "同社は何種類の表情を識別できますか?")
    text = "Flora Tasse co-founded Selerio, which Streem acquired."
    passage = Passage("t", 0, len(text), text, tuple(split_sentences(text)), ("t#0",), 0.0, 1)
    checks = check_claims(
        [("Flora Tasse co-founded a startup that Streem acquired.", [1]), ("It was Selerio.", [1])],
        [passage],
        {"t": Transcript(text)},
        SameVector(),
        question,
    )
    assert [c.text for c in checks] == ["It was Selerio."] and checks[0].supported


def test_an_english_count_of_something_else_does_not_support_a_claim():
    text = "So the company is just about two years old. We sell to heavy industry."
    passages = passages_of(text)
    wrong, right = check_claims(
        [("Alluvium has two employees.", [1]), ("The company is two years old.", [1])],
        passages,
        {"t": Transcript(text)},
        SameVector(),
        question="How many employees does Alluvium have?",
    )
    assert not wrong.supported and "2 employees" in wrong.missing
    assert right.supported and right.support == 1


def test_a_count_the_question_asks_about_needs_no_counted_word_in_the_passage():
    text = "Low haze works against easy cleaning. Both matter for phone screens."
    [check] = check_claims(
        [("The two properties were low haze and easy cleaning.", [1])],
        passages_of(text),
        {"t": Transcript(text)},
        SameVector(),
        question="Which two properties of the glass worked against each other?",
    )
    assert check.supported and check.missing == ()
