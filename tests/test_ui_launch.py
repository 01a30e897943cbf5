"""`rag ui`'s trust boundary: where it listens, the login accounts, the warnings (no model, no server)."""

import inspect

import gradio as gr
import pytest

import rag.cli
import rag.pipeline
import ui.app
from rag.errors import UsageError
from ui.app import auth_accounts, exposure_warnings, is_loopback, launch_options

SECRET = "s3cret-pw"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.org", "localhost.example"])
def test_addresses_reachable_from_the_network(host):
    assert not is_loopback(host)


def test_accounts_from_flags_and_from_the_variable():
    assert auth_accounts(None, None) == []
    assert auth_accounts(["ann:pw:with:colons", "bob:x"], None) == [("ann", "pw:with:colons"), ("bob", "x")]
    assert auth_accounts(None, "ann:a1, bob:b2") == [("ann", "a1"), ("bob", "b2")]
    assert auth_accounts(["cy:c3"], "ann:a1") == [("cy", "c3")]  # flags win, as for every setting


@pytest.mark.parametrize(
    "flags, env, says",
    [
        ([SECRET], None, "--auth value 1 has no ':'"),
        (["ann:a", ":" + SECRET], None, "--auth value 2 has an empty user name"),
        (["ann:"], None, "empty password"),
        ([" ann:" + SECRET], None, "spaces around the user name"),
        (["ann:" + SECRET, "ann:other"], None, "given twice"),
        (None, "", "RAG_UI_AUTH is empty"),
        (None, "   ", "RAG_UI_AUTH is empty"),
        (None, f"ann:{SECRET},", "RAG_UI_AUTH item 2 is empty"),
        (None, f"ann:{SECRET},{SECRET}", "RAG_UI_AUTH item 2 has no ':'"),
        ([""], None, "--auth value 1 is empty"),
    ],
)
def test_malformed_accounts_are_usage_errors_that_never_show_the_password(flags, env, says):
    with pytest.raises(UsageError) as caught:
        auth_accounts(flags, env)
    message = str(caught.value)
    assert caught.value.exit_code == 2 and says in message
    assert SECRET not in message and "\n" not in message


def test_launch_options_default_to_this_machine_and_no_login():
    options = launch_options()
    assert options["server_name"] == "127.0.0.1" and options["share"] is False
    assert options["auth"] is None  # an empty list would lock everyone out
    assert options["ssr_mode"] is False and options["mcp_server"] is False
    assert options["max_file_size"] == ui.app.MAX_UPLOAD_BYTES


def test_launch_options_pass_the_accounts_as_gradios_list_of_tuples():
    options = launch_options("0.0.0.0", 8000, False, [("ann", "a1"), ("bob", "b2")])
    assert options["auth"] == [("ann", "a1"), ("bob", "b2")]
    assert options["server_name"] == "0.0.0.0" and options["server_port"] == 8000


def test_launch_options_are_arguments_of_the_installed_gradio():
    accepted = inspect.signature(gr.Blocks.launch).parameters
    assert set(launch_options()) <= set(accepted)


def test_no_warning_on_loopback():
    assert exposure_warnings("127.0.0.1", []) == []
    assert exposure_warnings("::1", [("ann", SECRET)]) == []


def test_warning_without_login_says_anyone_can_use_it_and_how_to_add_one():
    [line] = exposure_warnings("0.0.0.0", [])
    assert line.startswith("warning: ") and "\n" not in line
    assert "anyone on the network can use the app" in line and "--auth USER:PASSWORD" in line


def test_warning_with_login_never_shows_the_password():
    [line] = exposure_warnings("192.168.1.20", [("ann", SECRET), ("bob", SECRET)])
    assert "login is required (2 accounts)" in line and "plain HTTP" in line
    assert SECRET not in line and "anyone" not in line


def test_share_without_login_warns_too():
    [line] = exposure_warnings("127.0.0.1", [], share=True)
    assert "public link that anyone can use" in line and "--auth" in line


def test_the_ui_command_defaults_to_loopback():
    args = rag.cli.build_parser().parse_args(["ui"])
    assert args.host == "127.0.0.1" and args.auth is None and args.share is False
    args = rag.cli.build_parser().parse_args(["ui", "--auth", "ann:a1", "--auth", "bob:b2"])
    assert args.auth == ["ann:a1", "bob:b2"]


@pytest.fixture
def no_models(monkeypatch):
    """`rag ui` up to Gradio's launch: no model load, no server; returns the launch call's arguments."""
    calls = []

    class Loaded:
        index = None

    monkeypatch.delenv("RAG_UI_AUTH", raising=False)
    monkeypatch.setattr(rag.pipeline.Pipeline, "load", classmethod(lambda cls, settings: Loaded()))
    monkeypatch.setattr(rag.cli, "warn_if_stale", lambda index: None)
    monkeypatch.setattr(ui.app, "launch", lambda pipeline, **kwargs: calls.append(kwargs))
    return calls


def test_bad_auth_fails_with_one_line_before_loading_anything(no_models, monkeypatch, capsys):
    monkeypatch.setattr(rag.pipeline.Pipeline, "load", classmethod(lambda cls, settings: pytest.fail("loaded")))
    assert rag.cli.main(["ui", "--auth", SECRET]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --auth value 1") and SECRET not in err
    monkeypatch.setenv("RAG_UI_AUTH", f"ann:{SECRET},bob")
    assert rag.cli.main(["ui"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: RAG_UI_AUTH item 2") and SECRET not in err
    assert rag.cli.main(["ui", "--host", " "]) == 2
    assert capsys.readouterr().err.startswith("error: --host is empty")


def test_accounts_reach_gradio_and_the_password_is_never_printed(no_models, monkeypatch, capsys):
    monkeypatch.setenv("RAG_UI_AUTH", f"ann:{SECRET}")
    assert rag.cli.main(["ui", "--host", "0.0.0.0", "--port", "8123"]) == 0
    [kwargs] = no_models
    assert kwargs == {"host": "0.0.0.0", "port": 8123, "share": False, "accounts": [("ann", SECRET)]}
    captured = capsys.readouterr()
    assert SECRET not in captured.err + captured.out
    assert sum(line.startswith("warning: --host 0.0.0.0") for line in captured.err.splitlines()) == 1


def test_network_host_without_login_warns_once(no_models, capsys):
    assert rag.cli.main(["ui", "--host", "0.0.0.0"]) == 0
    [kwargs] = no_models
    assert kwargs["accounts"] == []
    [warning] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert "anyone on the network can use the app" in warning and "--auth" in warning


def test_default_launch_warns_nothing(no_models, capsys):
    assert rag.cli.main(["ui"]) == 0
    [kwargs] = no_models
    assert kwargs["host"] == "127.0.0.1" and kwargs["accounts"] == []
    assert "warning" not in capsys.readouterr().err
