/** @odoo-module **/
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";

/** ``texts`` in the user's language (``{en: ..., it: ...}``): the tour runs in English
    and in Italian. */
function translated(texts) {
    return texts[user.lang.slice(0, 2)] ?? texts.en;
}

/* A contact's blocked symbol shows the reason on hover; its smart button opens the block
   entry, whose "Evidence" button opens the bounce that blocked the address. */
registry.category("web_tour.tours").add("mass_mailing_delivery_blocked_contact_tour", {
    steps: () => [
        {
            content: "Search the blocked contact",
            trigger: ".o_searchview_input",
            timeout: 30000,
            run: "edit Blocked Tour",
        },
        {
            // click the proposal once it is shown: Enter pressed before the (debounced)
            // proposals render searches nothing on a loaded machine
            content: "Validate the search (the first proposal)",
            trigger: ".o_searchview_autocomplete .o_menu_item:first:contains('Blocked Tour')",
            timeout: 30000,
            run: "click",
        },
        {
            content: "The search is applied",
            trigger: ".o_searchview_facet:contains('Blocked Tour')",
            timeout: 30000,
        },
        {
            content: "The card shows the blocked symbol with the reason",
            trigger: ".o_kanban_record:contains('Blocked Tour') .o_mmd_blocked[aria-label*='Hard bounce']",
            timeout: 30000,
        },
        {
            content: "Open the contact",
            trigger: ".o_kanban_record:contains('Blocked Tour')",
            timeout: 30000,
            run: "click",
        },
        {
            content: "Beside the e-mail, the blocked symbol says why",
            trigger: ".o_form_view .o_mmd_blocked[aria-label*='User unknown']",
            timeout: 30000,
        },
        {
            content: "Open the block entry from the smart button",
            trigger: ".o_form_view button.o_mmd_block_evidence",
            timeout: 30000,
            run: "click",
        },
        {
            content: "The block entry shows the evidence",
            trigger: ".o_form_view .o_field_widget[name='block_evidence']:contains('User unknown')",
            timeout: 30000,
        },
        {
            content: "The block entry opens the contact that uses the address",
            trigger: ".o_form_view button[name='action_view_contacts']",
            timeout: 30000,
            run: "click",
        },
        {
            content: "The contact's form",
            trigger: ".o_form_view .o_field_widget[name='email'] input:value(/blocked/)",
            timeout: 30000,
        },
        {
            content: "Back to the block entry",
            trigger: ".o_breadcrumb .breadcrumb-item:contains('blocked.tour@remote.example')",
            run: "click",
        },
        {
            content: "The block entry again",
            trigger: ".o_form_view .o_field_widget[name='block_evidence']:contains('User unknown')",
            timeout: 30000,
        },
        {
            content: "Open the evidence",
            trigger: ".o_form_view button[name='action_view_evidence']",
            timeout: 30000,
            run: "click",
        },
        {
            content: "The bounce that blocked the address",
            trigger: ".o_form_view .o_field_widget[name='diagnostic']:contains('User unknown')",
            timeout: 30000,
        },
    ],
});

// Steps wait up to 30 s: the test machine is shared and slow under load.

/* The "ignored" banner of a draft mailing: the blacklisted count opens the recipients. */
registry.category("web_tour.tours").add("mass_mailing_delivery_ignored_banner_tour", {
    steps: () => [
        {
            content: "Wait for the mail editor (leaving the form before it loads breaks it)",
            trigger: "[name='body_arch'] :iframe p:contains('Hello')",
            timeout: 60000,
        },
        {
            content: "The banner counts the ignored recipient, in the singular",
            trigger:
                ".o_mmd_ignored_banner .o_mmd_ignored_total" +
                translated({
                    en: ":contains('e-mail will be ignored and not sent'):not(:contains('e-mails'))",
                    it: ":contains('e-mail sarà ignorata e non inviata'):not(:contains('saranno'))",
                }),
            timeout: 30000,
        },
        {
            content: "Open the blacklisted recipients",
            trigger: ".o_mmd_ignored_banner button.o_mmd_ignored_blacklisted",
            timeout: 30000,
            run: "click",
        },
        {
            content: "The list shows the blacklisted recipient",
            trigger: ".o_list_view .o_data_row:contains('Blocked Tour')",
            timeout: 30000,
        },
        {
            content: "Only the blacklisted one",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Fine Tour')))",
            timeout: 30000,
        },
    ],
});
