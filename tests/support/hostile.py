"""Hostile strings: what users and moderators may type, run through every renderer.

Each entry is (name, text). Renderers must keep mentions inert, markup literal (escaped for
the platform), control characters and direction overrides harmless, and lengths within the
platform's limits; none may raise.
"""

HOSTILE: tuple[tuple[str, str], ...] = (
    ("everyone", "@everyone look at this"),
    ("here", "@here and <!here> and <!channel> and <!everyone>"),
    ("discord_user_mention", "<@123456789012345678> and <@!123456789012345678>"),
    ("discord_role_mention", "<@&123456789012345678>"),
    ("discord_channel_mention", "<#123456789012345678>"),
    ("slack_user_mention", "<@U0123ABCD> and <@W0123ABCD|alice>"),
    ("slack_group_mention", "<!subteam^S0123ABCD|@mods>"),
    ("slack_link", "<https://evil.example/phish|click here for cats>"),
    ("markdown_link", "[cats](https://evil.example/phish)"),
    ("entities", "Tom & Jerry <3 > dogs &amp; &lt;b&gt;"),
    ("discord_markdown", "**bold** __under__ ~~strike~~ ||spoiler|| `code` > quote # heading"),
    ("slack_mrkdwn", "*bold* _italic_ ~strike~ `code` ```block``` >quote"),
    ("code_fence", "```\n@everyone\n```"),
    ("control_chars", "cats\x00\x07\x1b[31mred\x1b[0m\r\nnext line"),
    ("rtl_override", "cats \u202eevil\u202c and \u2066isolate\u2069"),
    ("zero_width", "@\u200beveryone and <\u200b@U0123ABCD>"),
    ("emoji_zwj", "👨\u200d👩\u200d👧 cats 🐈\u200d⬛"),
    ("long", "ha" * 2500),  # 5,000 characters
    ("only_spaces", "   \t  "),
    ("url_bare", "https://evil.example/phish?x=<script>alert(1)</script>"),
)

# Names that are exactly another platform's mention syntax: a Discord display name may be
# "<@U0ADMIN1>" (a Slack mention), a Slack name "<@123456789012345678>" (a Discord one). On a
# card of the other platform they must show as text; HOSTILE's entries say more around them.
LOOKALIKE_NAMES: tuple[tuple[str, str], ...] = (
    ("slack_mention_exact", "<@U0ADMIN1>"),
    ("slack_broadcast_exact", "<!channel>"),
    ("slack_group_exact", "<!subteam^S0123ABCD>"),
    ("discord_mention_exact", "<@123456789012345678>"),
    ("discord_everyone_exact", "@everyone"),
)
