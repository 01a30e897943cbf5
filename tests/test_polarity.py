import pytest

from rag.polarity import is_yes_no_question, only_yes_or_no


@pytest.mark.parametrize(
    "question, language, yes_no",
    [  # written for this test, not taken from an eval file
        ("Did the guest's startup raise money before 2019?", "en", True),
        ("According to the host, is the dataset public?", "en", True),
        ("In the robotics episode, can the arm pick up soft objects?", "en", True),
        ("Hasn't the company open-sourced its model?", "en", True),
        ("Which company acquired the startup?", "en", False),
        ("Why did the guest leave Google?", "en", False),
        ("Is the model trained on speech or on text?", "en", False),  # a choice, not yes or no
        ("Name the three datasets the team used.", "en", False),
        ("How many GPUs did they use, and was it enough?", "en", False),
        ("L'invitée a-t-elle quitté Google en 2019 ?", "fr", True),
        ("Est-ce que le jeu de données est public ?", "fr", True),
        ("Le modèle que l'équipe entraîne est-il ouvert ?", "fr", True),  # "que" as a relative pronoun
        ("D'après l'invité, les capteurs suffisent-ils à détecter la maladie ?", "fr", True),
        ("Pourquoi l'invitée a-t-elle quitté Google ?", "fr", False),
        ("Quelle entreprise a-t-elle racheté la start-up ?", "fr", False),
        ("Qui a fondé la start-up ?", "fr", False),
        ("Le modèle est-il entraîné sur la parole ou sur le texte ?", "fr", False),
        ("ゲストのスタートアップは2019年より前に資金を調達しましたか？", "ja", True),
        ("そのデータセットは公開されていますか?", "ja", True),
        ("ゲストはなぜGoogleを辞めたのですか？", "ja", False),
        ("どの会社がスタートアップを買収しましたか？", "ja", False),
        ("モデルの学習に使われたデータは何ですか", "ja", False),
        ("チームは誰と協力しましたか？", "ja", False),
        ("When the guest joined the lab, was she its only engineer?", "en", True),  # a clause opens it
        ("Why, according to the host, is the dataset private?", "en", False),
        ("Which company, according to the host, is the largest?", "en", False),
        ("チームは、データをどう集めるかを議論しながら研究を進めていますか？", "ja", True),  # an embedded question
        ("チームは、データをどう集めましたか？", "ja", False),
        # wh-questions with a long opening, a clause before "qui"/"que", か inside ordinary words
        ("Which of the three companies, according to the host, is the largest?", "en", False),
        ("How many GPUs in total, according to him, did they use?", "en", False),
        ("Selon lui, qui a-t-il embauché ?", "fr", False),
        ("D'après l'invité, que fait-il ?", "fr", False),
        ("何が明らかになりましたか？", "ja", False),
        ("いかがでしたか？", "ja", False),
        ("どなたが会社を設立しましたか？", "ja", False),
        ("その会社は静かに撤退しましたか？", "ja", True),
        ("データセットは公開されていますか。", "ja", True),
        # choices and requests are not yes/no questions
        ("音声で学習されましたか、それともテキストですか？", "ja", False),
        ("音声で学習されたか、テキストで学習されたか？", "ja", False),
        ("Can you summarize the episode?", "en", False),
        ("Do you know which company won?", "en", False),
        ("According to the guest, can you store more data in it?", "en", True),
        ("Pouvez-vous résumer l'épisode ?", "fr", False),
        ("Donne-nous la liste des jeux de données ?", "fr", False),
        ("要約してくれますか？", "ja", False),
        ("教えてもらえますか？", "ja", False),
    ],
)
def test_yes_no_questions_are_recognized_by_their_form(question, language, yes_no):
    assert is_yes_no_question(question, language) is yes_no


def test_a_bare_yes_or_no_is_not_a_claim():
    assert only_yes_or_no("No.") and only_yes_or_no("Oui !") and only_yes_or_no("いいえ、いいえ、はい、はい")
    assert not only_yes_or_no("No, the dataset is private.") and not only_yes_or_no("Nothing was said.")
    assert not only_yes_or_no("") and not only_yes_or_no("2019.")


def test_the_hand_written_yes_no_questions_are_recognized_unless_they_offer_a_choice():
    """tests/data/yesno_questions.jsonl: 40 yes/no questions written by hand on the podcast library (en/ja/fr),
    used to calibrate the yes threshold (models.md). The three with "or" / "ou" in them are yes/no questions
    too, but the rules cannot tell them from a choice ("speech or text?"), so they are left to the model's
    free answer: a known miss, kept here so that a change of the rules shows."""
    import json
    from pathlib import Path

    from rag.lang import detect_language

    items = [json.loads(line) for line in (Path(__file__).parent / "data" / "yesno_questions.jsonl").open()]
    missed = [i["id"] for i in items if not is_yes_no_question(i["question"], detect_language(i["question"]))]
    offer_a_choice = [i["id"] for i in items if " or " in i["question"] or " ou " in i["question"]]
    assert len(items) == 40 and missed == offer_a_choice and len(missed) <= 3
