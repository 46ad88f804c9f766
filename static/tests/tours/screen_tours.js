/** @odoo-module **/
import { registry } from "@web/core/registry";
import {
    countFigure,
    listHasCountedRows,
    noErrorDialog,
} from "@mass_mailing_delivery/../tests/tours/tour_helpers";

/* One tour per screen group of the README that the other tours do not visit: the bounce
   log, the Delivery Failures report, the settings, the outgoing mail server, the failure
   popup of a document e-mail, the blocked addresses and the delivery alerts. Each clicks
   every figure, smart button and row action of its screen and checks what opens (its
   rows, its record, a title of its own), with no error dialog. They run on the demo's
   story in English and in Italian: they find things by field names, classes and e-mail
   addresses, never by their words. */

const state = { title: null };

/** The texts of the breadcrumb, from the first to the current view. */
function breadcrumbTexts() {
    return [...document.querySelectorAll(".o_breadcrumb .breadcrumb-item, .o_breadcrumb .active")]
        .map((item) => item.textContent.trim())
        .filter(Boolean);
}

/** The current view has a title of its own: not empty, not its parent's. */
function ownTitle(label) {
    return {
        content: `${label}: the view has a title of its own`,
        trigger: ".o_breadcrumb .active",
        run() {
            const texts = breadcrumbTexts();
            const current = texts.at(-1);
            if (!current || (texts.length > 1 && texts.at(-2) === current)) {
                throw new Error(`${label}: breadcrumb "${texts.join(" / ")}"`);
            }
        },
    };
}

/** Go back one step of the breadcrumb and wait for ``trigger``. */
function back(label, trigger) {
    return [
        { content: `Back from ${label}`, trigger: ".o_breadcrumb .o_back_button", run: "click" },
        { content: `Back from ${label}: the screen is shown again`, trigger },
    ];
}

/**
 * Click ``trigger``, check the view it opens shows ``expect`` under a title of its own,
 * then come back to ``home``.
 */
function visit(label, trigger, expect, home) {
    return [
        { content: `Click ${label}`, trigger, run: "click" },
        { content: `${label} opens its view`, trigger: expect },
        noErrorDialog(label),
        ownTitle(label),
        ...back(label, home),
    ];
}

/**
 * Click the figure ``trigger`` (its count read from ``countFrom``, default the clicked
 * element) and check the list it opens has as many rows, then come back to ``home``.
 */
function countedList(label, trigger, home, countFrom = null) {
    return [
        {
            content: `Click ${label}`,
            trigger,
            run(helpers) {
                const source = countFrom ? document.querySelector(countFrom) : helpers.anchor;
                countFigure(source);
                helpers.click();
            },
        },
        listHasCountedRows(label),
        noErrorDialog(label),
        ownTitle(label),
        ...back(label, home),
    ];
}

/* Bounce log: the refusal at sending and the bounce of the same 5.1.1, each row's form,
   its mailing and its recipient's trace, whose *Correct the address* opens the contact. */
registry.category("web_tour.tours").add("mass_mailing_delivery_bounce_log_tour", {
    steps: () => {
        const list = ".o_list_view .o_data_row";
        const steps = [{ content: "The bounce log lists the story's answers", trigger: list }];
        for (const email of ["marco.bianchi", "sofia.lopez"]) {
            const form = `.o_form_view .o_field_widget[name='recipient']:contains('${email}')`;
            const trace = `.o_form_view .o_field_widget[name='email']:contains('${email}')`;
            steps.push(
                {
                    content: `Open ${email}'s line`,
                    trigger: `.o_data_row:has(td[name='mailing_id']:not(:empty)) td[name='recipient']:contains('${email}')`,
                    run: "click",
                },
                { content: `${email}'s line opens`, trigger: form },
                noErrorDialog(`${email}'s line`),
                {
                    content: `${email}'s line says what was done to the address`,
                    trigger: ".o_form_view .o_field_widget[name='action_taken']:not(:empty)",
                },
                ...visit(
                    `${email}'s mailing`,
                    ".o_form_view .o_field_widget[name='mailing_id'] a",
                    ".o_form_view .o_field_widget[name='subject']",
                    form
                ),
                {
                    content: `Click ${email}'s trace`,
                    trigger: ".o_form_view .o_field_widget[name='trace_id'] a",
                    run: "click",
                },
                { content: `${email}'s trace opens its view`, trigger: trace },
                noErrorDialog(`${email}'s trace`),
                ownTitle(`${email}'s trace`),
                {
                    content: `${email}'s trace: correct the address`,
                    trigger: ".o_form_view button.o_mmd_correct_address",
                    run: "click",
                },
                {
                    content: `${email}'s contact opens on the address to correct`,
                    trigger: ".o_form_view .o_field_widget[name='email'] input",
                    run() {
                        const input = document.querySelector(
                            ".o_form_view .o_field_widget[name='email'] input"
                        );
                        if (!input.value.includes(email)) {
                            throw new Error(`The contact's e-mail is ${input.value}`);
                        }
                    },
                },
                noErrorDialog(`${email}'s contact`),
                ownTitle(`${email}'s contact`),
                ...back(`${email}'s contact`, trace),
                ...back(`${email}'s trace`, form),
                ...back(`${email}'s line`, list)
            );
        }
        return steps;
    },
});

/* Delivery Failures: every figure of the pivot's total row opens its recipients; a row
   opens its form, whose button and whose row button open the recipient. */
registry.category("web_tour.tours").add("mass_mailing_delivery_delivery_failures_tour", {
    steps: () => {
        const pivot = ".o_pivot table tbody tr:first-child td.o_pivot_cell_value";
        const steps = [{ content: "The report shows its figures", trigger: pivot }];
        // the total row: bounced, not sent, complaints, and their total
        for (let index = 0; index < 4; index++) {
            steps.push(
                ...countedList(
                    `the total row's figure ${index + 1}`,
                    `${pivot}:eq(${index})`,
                    pivot
                )
            );
        }
        const list = ".o_list_view .o_data_row";
        const row = `${list}:has(td[name='email']:contains('marco.bianchi'))`;
        const contact = ".o_form_view .o_field_widget[name='email']:contains('marco.bianchi')";
        steps.push(
            { content: "Open the list", trigger: ".o_switch_view.o_list", run: "click" },
            { content: "The list shows Marco's failure", trigger: row },
            noErrorDialog("the list"),
            ...visit(
                "the row's recipient button",
                `${row} button[name='action_view_contact']`,
                `${contact}, .o_form_view .o_field_widget[name='email'] input`,
                list
            ),
            {
                content: "Open Marco's failure",
                trigger: `${row} td[name='email']`,
                run: "click",
            },
            {
                content: "Marco's failure opens",
                trigger: ".o_form_view .o_field_widget[name='email']:contains('marco.bianchi')",
            },
            noErrorDialog("Marco's failure"),
            ...visit(
                "the form's recipient button",
                ".o_form_view .o_form_statusbar button[name='action_view_contact']",
                ".o_form_view .o_field_widget[name='email'] input",
                ".o_form_view .o_form_statusbar button[name='action_view_contact']"
            ),
            ...back("Marco's failure", list),
            { content: "Open the graph", trigger: ".o_switch_view.o_graph", run: "click" },
            { content: "The graph is drawn", trigger: ".o_graph_renderer canvas" },
            noErrorDialog("the graph")
        );
        return steps;
    },
});

/* Settings: the tracked templates' count is the list behind it; every button of the
   addon's blocks opens its screen. */
registry.category("web_tour.tours").add("mass_mailing_delivery_settings_tour", {
    steps: () => {
        const home = "#mmd_tracked_templates .o_field_widget[name='mmd_tracked_template_count']";
        const steps = [
            { content: "The settings show the addon's blocks", trigger: home },
            {
                content: "The settings show the parallel senders",
                trigger: "#mmd_parallel_senders .o_field_widget[name='mmd_parallel_senders'] input",
            },
            {
                content: "The settings show the soft-bounce rule",
                trigger: "#mmd_soft_bounce_limit .o_field_widget[name='mmd_soft_bounce_limit'] input",
            },
            ...countedList(
                "Choose the tracked templates",
                "#mmd_tracked_templates button[name='action_mmd_tracked_templates']",
                home,
                home
            ),
        ];
        const buttons = [
            ["Tracked e-mails", "#mmd_tracked_templates button:eq(1)"],
            ["Bounce log", "#mmd_synchronize button:eq(1)"],
            ["Sent e-mails", "#mmd_log_retention button:eq(0)"],
            ["Delivery alerts", "#mmd_log_retention button:eq(1)"],
        ];
        for (const [label, trigger] of buttons) {
            steps.push(...visit(label, trigger, ".o_action_manager .o_list_view", home));
        }
        steps.push(
            {
                content: "Synchronise now",
                trigger: "#mmd_synchronize button[name='action_mmd_synchronize']",
                run: "click",
            },
            { content: "The synchronisation reports", trigger: ".o_notification" },
            noErrorDialog("Synchronise now")
        );
        return steps;
    },
});

/* The outgoing mail server: its Send Speed and Sending service tabs. */
registry.category("web_tour.tours").add("mass_mailing_delivery_mail_server_tour", {
    steps: () => [
        {
            content: "Open the Send Speed tab",
            trigger: ".o_form_view .o_notebook a[name='throttle']",
            run: "click",
        },
        {
            content: "The send speed and the archive address are shown",
            trigger: ".o_form_view .o_field_widget[name='throttle_rate'] input",
        },
        {
            content: "The archive address is shown",
            trigger: ".o_form_view .o_field_widget[name='mmd_bcc_email'] input",
        },
        noErrorDialog("Send Speed"),
        {
            content: "Open the Sending service tab",
            trigger: ".o_form_view .o_notebook a[name='sending_service']",
            run: "click",
        },
        {
            content: "The webhook URL to paste into the service is shown",
            trigger: ".o_form_view .o_field_widget[name='mmd_webhook_url']:contains('/mass_mailing_delivery/')",
        },
        {
            content: "The events of the last days are summed up",
            trigger: ".o_form_view .o_field_widget[name='mmd_event_summary']",
        },
        noErrorDialog("Sending service"),
    ],
});

/* The failure popup of Marco's invoice: the registry's advice and the server's reply,
   no Try Again for a permanent failure; its row actions open the details and the
   contact to correct. */
registry.category("web_tour.tours").add("mass_mailing_delivery_resend_popup_tour", {
    steps: () => {
        const line = ".modal .o_field_widget[name='partner_ids'] .o_data_row";
        const openPopup = [
            {
                content: "Click the red envelope of the refused e-mail",
                trigger: ".o-mail-Message .o-mail-Message-notification.text-danger",
                run: "click",
            },
            {
                content: "The popup explains the failure with the server's reply",
                trigger: `${line} td[name='message']:contains('550 5.1.1')`,
            },
            noErrorDialog("the failure popup"),
        ];
        return [
            ...openPopup,
            {
                content: "Try Again is off: the failure is permanent",
                trigger: `${line} .o_field_widget[name='resend'] input:not(:checked)`,
            },
            {
                content: "No Python repr in the popup",
                trigger: ".modal",
                run() {
                    const text = document.querySelector(".modal").textContent;
                    for (const raw of ["SMTPRecipientsRefused", "b'", "Unknown error"]) {
                        if (text.includes(raw)) {
                            throw new Error(`The popup shows "${raw}": ${text}`);
                        }
                    }
                },
            },
            {
                content: "See the error details",
                trigger: `${line} button[name='action_open_resend_partner']`,
                run: "click",
            },
            {
                content: "The details show the server's words, not a Python repr",
                trigger: ".o_form_view .o_field_widget[name='failure_reason']:contains('550 5.1.1')",
                run() {
                    const text = document.querySelector(
                        ".o_form_view .o_field_widget[name='failure_reason']"
                    ).textContent;
                    for (const raw of ["SMTPRecipientsRefused", "b'", "'None'"]) {
                        if (text.includes(raw)) {
                            throw new Error(`The details show "${raw}": ${text}`);
                        }
                    }
                },
            },
            noErrorDialog("the error details"),
            ownTitle("the error details"),
            {
                content: "Back to the invoice",
                trigger: ".o_breadcrumb .o_back_button",
                run: "click",
            },
            ...openPopup,
            {
                content: "Correct the address",
                trigger: `${line} button.o_mmd_correct_address`,
                run: "click",
            },
            {
                content: "Marco's contact opens on his e-mail",
                trigger: ".o_form_view .o_field_widget[name='email'] input",
                run() {
                    const input = document.querySelector(
                        ".o_form_view .o_field_widget[name='email'] input"
                    );
                    if (!input.value.includes("marco.bianchi")) {
                        throw new Error(`The contact's e-mail is ${input.value}`);
                    }
                },
            },
            noErrorDialog("Correct the address"),
            {
                content: "No popup left",
                trigger: "body:not(:has(.modal))",
            },
        ];
    },
});

/* Blocked addresses: each reason's entry, its Contacts and Evidence buttons. */
registry.category("web_tour.tours").add("mass_mailing_delivery_blocklist_tour", {
    steps: () => {
        const list = ".o_list_view .o_data_row";
        const steps = [{ content: "The blocked addresses are listed", trigger: list }];
        const entries = [
            // e-mail, its evidence: the bounce (its recipient) or the mailing (its subject)
            ["sofia.lopez", ".o_form_view .o_field_widget[name='recipient']:contains('sofia.lopez')"],
            ["marco.bianchi", ".o_form_view .o_field_widget[name='recipient']:contains('marco.bianchi')"],
            ["hans.schmidt", ".o_form_view .o_field_widget[name='subject']"],
            ["peter.weber", null],
        ];
        for (const [email, evidence] of entries) {
            const form = ".o_form_view:has(.o_field_widget[name='block_reason'])";
            steps.push(
                {
                    content: `Open ${email}'s entry`,
                    trigger: `${list} td[name='email']:contains('${email}')`,
                    run: "click",
                },
                { content: `${email}'s entry opens`, trigger: ".o_form_view .o-form-buttonbox" },
                noErrorDialog(`${email}'s entry`),
                {
                    content: `${email}'s entry says why it is blocked`,
                    trigger: ".o_form_view .o_field_widget[name='block_reason']",
                },
                ...visit(
                    `${email}'s contacts`,
                    ".o_form_view button[name='action_view_contacts']",
                    // a contact's or mailing contact's form (they have a second e-mail), or their list
                    `.o_form_view:has(.o_field_widget[name='mmd_email2']) .o_field_widget[name='email'] input:value(/${email}/), .o_action_manager .o_list_view .o_data_row:contains('${email}')`,
                    form
                )
            );
            if (evidence) {
                steps.push(
                    ...visit(
                        `${email}'s evidence`,
                        ".o_form_view button[name='action_view_evidence']",
                        evidence,
                        form
                    )
                );
            } else {
                steps.push({
                    content: `${email}'s block was made by hand: its reason is typed, no evidence button`,
                    trigger: ".o_form_view:not(:has(button[name='action_view_evidence'])) .o_field_widget[name='block_evidence']",
                });
            }
            steps.push(...back(`${email}'s entry`, list));
        }
        return steps;
    },
});

/* Delivery alerts: each rule's row opens its form. */
registry.category("web_tour.tours").add("mass_mailing_delivery_alerts_tour", {
    steps: () => {
        const list = ".o_list_view .o_data_row";
        const steps = [{ content: "The alert rules are listed", trigger: list }];
        for (const index of [0, 1]) {
            steps.push(
                {
                    content: `Open rule ${index + 1}`,
                    trigger: `${list}:eq(${index}) td[name='name']`,
                    run(helpers) {
                        state.title = helpers.anchor.textContent.trim();
                        helpers.click();
                    },
                },
                {
                    content: `Rule ${index + 1} opens under its name`,
                    trigger: ".o_form_view .o_field_widget[name='name'] input",
                    run() {
                        const input = document.querySelector(
                            ".o_form_view .o_field_widget[name='name'] input"
                        );
                        if (input.value !== state.title) {
                            throw new Error(`Rule "${state.title}" opens "${input.value}"`);
                        }
                    },
                },
                {
                    content: `Rule ${index + 1} says when it warns and what it does`,
                    trigger: ".o_form_view .o_field_widget[name='activity_type_id']",
                },
                noErrorDialog(`rule ${index + 1}`),
                ...back(`rule ${index + 1}`, list)
            );
        }
        return steps;
    },
});

/**
 * Steps showing the smart button ``name`` of the form (in its button box or under its
 * *More* menu), then clicking it.
 */
function smartButton(name) {
    const selector = `.o-form-buttonbox button[name='${name}'], .o-dropdown--menu button[name='${name}']`;
    return [
        {
            content: `Show the ${name} button (in the button box or under its More)`,
            trigger: ".o_form_view .o-form-buttonbox",
            run() {
                if (!document.querySelector(selector)) {
                    document.querySelector(".o-form-buttonbox .o_button_more").click();
                }
            },
        },
        { content: `The ${name} button is shown`, trigger: selector },
    ];
}

/* A contact the demo's mailing and invoice could not reach (Marco Bianchi): his second
   and third e-mails, his E-mails sent (as many rows as counted) and Blocked buttons. */
registry.category("web_tour.tours").add("mass_mailing_delivery_contact_tour", {
    steps: () => {
        const home = ".o_form_view .o_field_widget[name='mmd_email2']";
        const sent = "button[name='action_mmd_sent_emails']";
        return [
            { content: "The contact shows his second e-mail", trigger: home },
            {
                content: "The contact shows his third e-mail",
                trigger: ".o_form_view .o_field_widget[name='mmd_email3']",
            },
            ...smartButton("action_mmd_sent_emails"),
            ...countedList(
                "E-mails sent",
                `.o-form-buttonbox ${sent}, .o-dropdown--menu ${sent}`,
                home,
                `.o-form-buttonbox ${sent} .o_stat_value, .o-dropdown--menu ${sent} .o_stat_value`
            ),
            ...smartButton("action_view_block_evidence"),
            ...visit(
                "Blocked",
                ".o-form-buttonbox button[name='action_view_block_evidence'], .o-dropdown--menu button[name='action_view_block_evidence']",
                ".o_form_view .o_field_widget[name='block_reason']",
                home
            ),
        ];
    },
});

/* The demo's sent mailing: its Settings tab (archive copy, second and third e-mails) and
   its Outcome Tags tab. */
registry.category("web_tour.tours").add("mass_mailing_delivery_mailing_tabs_tour", {
    steps: () => [
        {
            content: "Open the Settings tab",
            trigger: ".o_form_view .o_notebook a[name='settings']",
            run: "click",
        },
        {
            content: "The archive copy address is offered (empty: its label)",
            trigger: ".o_form_view .o_notebook label[for^='mmd_bcc_email']",
        },
        {
            content: "Second and third e-mails are offered",
            trigger: ".o_form_view .o_field_widget[name='mmd_secondary_emails']",
        },
        noErrorDialog("the Settings tab"),
        {
            content: "Open the Outcome Tags tab",
            trigger: ".o_form_view .o_notebook a[name='outcome_tags']",
            run: "click",
        },
        {
            content: "The outcome tags are shown",
            trigger: ".o_form_view .o_notebook label[for^='outcome_tag_sent_id']",
        },
        noErrorDialog("the Outcome Tags tab"),
    ],
});

/* The sending services' events waiting: the failed one shows why and stays failed when
   applied again; the waiting one leaves the list once applied. */
registry.category("web_tour.tours").add("mass_mailing_delivery_provider_events_tour", {
    steps: () => {
        const row = (email) => `.o_list_view .o_data_row td[name='recipient']:contains('${email}')`;
        const open = (email) => ({
            content: `Open the event of ${email}`,
            trigger: row(email),
            run: "click",
        });
        const applyNow = {
            content: "Apply it now",
            trigger: ".o_form_view .o_form_statusbar button[name='action_apply_again']",
            run: "click",
        };
        return [
            { content: "The failed event is listed", trigger: row("failed.tour@example.com") },
            { content: "The waiting event is listed", trigger: row("waiting.tour@example.com") },
            open("failed.tour@example.com"),
            {
                content: "The failed event says it is kept and why it failed",
                trigger: ".o_form_view .alert-warning",
            },
            {
                content: "The error is shown",
                trigger: ".o_form_view .o_field_widget[name='error']:contains('TypeError')",
            },
            noErrorDialog("the failed event"),
            applyNow,
            {
                content: "It failed again: a warning says so",
                trigger: ".o_notification .o_notification_bar.bg-warning",
            },
            {
                content: "Back on the list, the failed event is still there",
                trigger: row("failed.tour@example.com"),
            },
            open("waiting.tour@example.com"),
            {
                content: "The waiting event says it is applied in a moment",
                trigger: ".o_form_view .alert-info",
            },
            applyNow,
            {
                content: "Applied: the notification says so",
                trigger: ".o_notification .o_notification_bar.bg-info",
            },
            {
                content: "Back on the list, the applied event is gone, the failed one stays",
                trigger:
                    ".o_list_view:not(:has(td[name='recipient']:contains('waiting.tour@example.com'))) " +
                    "td[name='recipient']:contains('failed.tour@example.com')",
            },
            {
                content: "Select the failed event in the list",
                trigger: ".o_list_view .o_data_row:has(td[name='recipient']:contains('failed.tour@example.com')) .o_list_record_selector input",
                run: "click",
            },
            {
                content: "Apply the selection now from the list's header",
                trigger: ".o_list_view .o_control_panel_actions button[name='action_apply_again'], .o_list_buttons button[name='action_apply_again'], .o_list_view button[name='action_apply_again']",
                run: "click",
            },
            {
                content: "It failed again: the list says so and still shows it",
                trigger: ".o_notification .o_notification_bar.bg-warning",
            },
            { content: "The failed event is still listed", trigger: row("failed.tour@example.com") },
            noErrorDialog("the events to apply"),
        ];
    },
});
