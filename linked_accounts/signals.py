"""The Flask signals a host subscribes to: what changed in a person's sign-in methods.

Defined here, apart from `events` (which emits them with a log line and the security email), so
that whatever only listens (the host, `metrics`) depends on nothing but blinker.
"""

from __future__ import annotations

from blinker import Namespace

namespace = Namespace()
identity_linked = namespace.signal("identity-linked")
identity_unlinked = namespace.signal("identity-unlinked")
separated_deleted = namespace.signal("separated-account-deleted")
# After every link: `primary_id` stays, `merged_id` no longer exists as a user (see merging).
accounts_merged = namespace.signal("accounts-merged")
# After the extension signs a person in (its own login, not a re-authentication): `claims` are
# the verified ID token's. Optional features listen (the at-login door reads its merge claim).
login_finished = namespace.signal("login-finished")
# After the person asked to re-read their list and it was read from Auth0 (`user_id`): whatever
# else the page shows is checked again too (an optional feature listens: the suggestions).
list_refreshed = namespace.signal("list-refreshed")
