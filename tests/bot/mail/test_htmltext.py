from bot.mail.htmltext import html_to_text


def test_paragraphs_breaks_entities_and_dropped_scripts() -> None:
    html = (
        "<html><head><style>p{}</style></head><body><script>x()</script>"
        "<p>Een &amp; twee</p><p>drie<br>vier&nbsp;vijf</p></body></html>"
    )
    assert html_to_text(html) == "Een & twee\n\ndrie\nvier vijf"


def test_blockquote_becomes_quoted_lines() -> None:
    html = (
        "<div>Nieuw</div><blockquote type='cite'><p>Oud</p>"
        "<blockquote>Ouder</blockquote></blockquote>"
    )
    assert html_to_text(html) == "Nieuw\n\n> Oud\n>\n> > Ouder"


def test_lists_tables_and_pre() -> None:
    html = (
        "<ul><li>a</li><li>b</li></ul><table><tr><td>x</td><td>y</td></tr></table><pre>1\n  2</pre>"
    )
    assert html_to_text(html) == "- a\n- b\n\nx y\n\n1\n  2"


def test_garbage_does_not_raise() -> None:
    for junk in ("<", "<a <b", "</p></p><p", "&#xdeadbeef;", "<![CDATA[", "<!--", "\x00<p>x"):
        assert isinstance(html_to_text(junk), str)
