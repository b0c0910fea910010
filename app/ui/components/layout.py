"""The app shell: a sidebar (a top bar with a toggled menu on phones) around page content.

    def my_page() -> rx.Component:
        return layout(page_header("Title"), my_content(), title="Title")

Content renders only once the on_load guard (AuthState.require_session) found a session, so
nothing of a signed-in page flashes for a signed-out visitor.
"""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import loading_block
from app.ui.states.auth import AuthState
from app.ui.states.shell import ShellState

SIDEBAR_WIDTH = "236px"
DESKTOP = "md"  # Radix breakpoint (≥ 1024 px): the sidebar shows; below it, a top bar


def _is_active(route: str) -> rx.Var:
    path = AuthState.router.url.path
    if route == routes.DASHBOARD:
        return path == routes.DASHBOARD
    return path.startswith(route)


def _nav_item(label: str, icon: str, route: str, badge: rx.Component | None = None,
              test_id: str = "") -> rx.Component:
    active = _is_active(route)
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=18),
            rx.text(label, size="3", weight=rx.cond(active, "medium", "regular")),
            rx.spacer(),
            *([badge] if badge is not None else []),
            align="center",
            width="100%",
            padding_x="12px",
            padding_y="8px",
            border_radius="8px",
            background=rx.cond(active, "var(--accent-a4)", "transparent"),
            color=rx.cond(active, "var(--accent-12)", "var(--gray-12)"),
            _hover={"background": "var(--accent-a3)"},
        ),
        href=route,
        underline="none",
        width="100%",
        on_click=ShellState.close_nav,
        data_testid=test_id or f"nav-{label.lower()}",
    )


def _approvals_badge() -> rx.Component:
    return rx.cond(
        ShellState.pending_approvals > 0,
        rx.badge(ShellState.pending_approvals, color_scheme="red", variant="solid",
                 radius="full", data_testid="approvals-badge"),
    )


def _nav_links() -> rx.Component:
    return rx.vstack(
        _nav_item("Dashboard", "layout-dashboard", routes.DASHBOARD),
        _nav_item("Workflows", "workflow", routes.WORKFLOWS),
        _nav_item("Forms", "file-text", routes.FORMS),
        _nav_item("Runs", "play", routes.RUNS),
        _nav_item("Approvals", "inbox", routes.APPROVALS, badge=_approvals_badge()),
        rx.cond(AuthState.can_see_settings,
                _nav_item("Settings", "settings", routes.SETTINGS)),
        spacing="1",
        width="100%",
    )


def workspace_switcher() -> rx.Component:
    return rx.cond(
        AuthState.has_several_workspaces,
        rx.select.root(
            rx.select.trigger(width="100%", data_testid="workspace-switcher"),
            rx.select.content(
                rx.foreach(AuthState.workspaces,
                           lambda w: rx.select.item(w["name"], value=w["id"])),
            ),
            value=AuthState.workspace_id,
            on_change=AuthState.switch_workspace,
            size="2",
        ),
        rx.text(AuthState.workspace_name, size="2", weight="medium", truncate=True,
                data_testid="workspace-name"),
    )


def _user_box() -> rx.Component:
    return rx.vstack(
        rx.separator(),
        rx.hstack(
            rx.icon("circle-user", size=20),
            rx.vstack(
                rx.text(AuthState.email, size="2", title=AuthState.email, max_width="160px",
                        white_space="nowrap", overflow="hidden", text_overflow="ellipsis",
                        data_testid="user-email"),
                rx.badge(AuthState.role, variant="surface", size="1", data_testid="user-role"),
                spacing="1",
                min_width="0",
            ),
            align="center",
            width="100%",
        ),
        rx.hstack(
            rx.button(rx.icon("log-out", size=14), "Sign out", on_click=AuthState.sign_out,
                      variant="soft", size="1", data_testid="sign-out"),
            rx.tooltip(
                rx.button("Everywhere", on_click=AuthState.sign_out_everywhere,
                          variant="ghost", size="1", color_scheme="gray"),
                content="Sign out of every browser and device",
            ),
            spacing="2",
            wrap="wrap",
        ),
        rx.link(rx.hstack(rx.icon("bell", size=14), rx.text("Email notifications", size="1"),
                          align="center", spacing="1"),
                href=routes.SETTINGS_NOTIFICATIONS, underline="none", color="var(--gray-11)",
                data_testid="notifications-link"),
        spacing="3",
        width="100%",
    )


def _brand() -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("waypoints", size=22, color="var(--accent-9)"),
                  rx.heading("Flowdesk", size="5"), align="center", spacing="2"),
        href=routes.DASHBOARD,
        underline="none",
        color="var(--gray-12)",
    )


def sidebar() -> rx.Component:
    return rx.box(
        rx.vstack(
            _brand(),
            workspace_switcher(),
            _nav_links(),
            rx.spacer(),
            _user_box(),
            spacing="4",
            height="100%",
            padding="16px",
        ),
        display=rx.breakpoints(initial="none", **{DESKTOP: "block"}),
        position="fixed",
        top="0",
        left="0",
        bottom="0",
        width=SIDEBAR_WIDTH,
        border_right="1px solid var(--gray-a5)",
        background="var(--gray-1)",
        overflow_y="auto",
        z_index="10",
        data_testid="sidebar",
    )


def top_bar() -> rx.Component:
    """Phones and tablets: brand, badge and a menu button that unfolds the navigation."""
    return rx.box(
        rx.hstack(
            _brand(),
            rx.spacer(),
            _approvals_badge(),
            rx.icon_button(rx.cond(ShellState.nav_open, rx.icon("x"), rx.icon("menu")),
                           on_click=ShellState.toggle_nav, variant="ghost",
                           aria_label="Menu", data_testid="menu-button"),
            align="center",
            width="100%",
        ),
        rx.cond(
            ShellState.nav_open,
            rx.vstack(workspace_switcher(), _nav_links(), _user_box(), spacing="3",
                      padding_top="12px", width="100%"),
        ),
        display=rx.breakpoints(initial="block", **{DESKTOP: "none"}),
        position="sticky",
        top="0",
        padding="12px",
        background="var(--gray-1)",
        border_bottom="1px solid var(--gray-a5)",
        z_index="10",
        width="100%",
    )


def layout(*children: rx.Component, max_width: str = "1200px") -> rx.Component:
    """Wrap a signed-in page's content in the shell."""
    return rx.box(
        sidebar(),
        top_bar(),
        rx.box(
            rx.cond(
                AuthState.signed_in,
                rx.box(*children, width="100%", max_width=max_width, margin_x="auto"),
                loading_block("Checking your session…"),
            ),
            margin_left=rx.breakpoints(initial="0", **{DESKTOP: SIDEBAR_WIDTH}),
            padding=rx.breakpoints(initial="12px", sm="20px", **{DESKTOP: "28px"}),
            min_width="0",
        ),
        min_height="100vh",
        width="100%",
        overflow_x="hidden",
    )

