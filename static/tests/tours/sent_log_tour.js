/** @odoo-module **/
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/** ``texts`` in the user's language (``{en: ..., it: ...}``): the tour runs in English
    and in Italian. */
function translated(texts) {
    return texts[user.lang.slice(0, 2)] ?? texts.en;
}

/* Steps wait up to 30 s: the test machine is shared and slow under load.

   A customer calls: "I never got the invoice". The user searches the sent e-mails
   log for the customer's address, reads the row and opens the invoice. */
registry.category("web_tour.tours").add("mass_mailing_delivery_sent_log_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Email Marketing",
            trigger: '.o_app[data-menu-xmlid="mass_mailing.mass_mailing_menu_root"]',
            timeout: 30000,
            run: "click",
        },
        {
            content: "Open Reporting",
            trigger: '.o_menu_sections button[data-menu-xmlid="mass_mailing.menu_mass_mailing_report"]',
            timeout: 30000,
            run: "click",
        },
        {
            content: "Open Sent E-mails",
            trigger: '.o-dropdown-item[data-menu-xmlid="mass_mailing_delivery.mail_sent_log_menu"]',
            timeout: 30000,
            run: "click",
        },
        {
            content: "Search the log for the recipient (part of the address)",
            trigger: ".o_searchview_input",
            timeout: 30000,
            run: "edit ZOE@NOUSER",
        },
        {
            // click the proposal once it is shown: Enter pressed before the (debounced)
            // proposals render searches nothing on a loaded machine
            content: "Search by recipient (the first proposal)",
            trigger: ".o_searchview_autocomplete .o_menu_item:first:contains('ZOE@NOUSER')",
            timeout: 30000,
            run: "click",
        },
        {
            content: "The search is applied",
            trigger: ".o_searchview_facet:contains('ZOE@NOUSER')",
            timeout: 30000,
        },
        {
            content: "Only the customer's e-mail is listed, failed",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('other@tour.example'))) .o_data_row:contains('zoe@nouser.example'):contains('" + translated({ en: "Failed", it: "Non riuscite" }) + "')",
            timeout: 30000,
        },
        {
            content: "Open the row",
            trigger: ".o_data_row:contains('zoe@nouser.example') td[name='email']",
            timeout: 30000,
            run: "click",
        },
        {
            content: "The registry explains the failure",
            trigger: `.o_form_view .alert-danger:contains('${translated({ en: "What to do", it: "Cosa fare" })}')`,
            timeout: 30000,
        },
        {
            content: "The server's words, not Odoo's exception",
            trigger: ".o_form_view .o_field_widget[name='failure_text']:contains('550 5.1.1')",
            timeout: 30000,
            run() {
                const text = document.querySelector(".o_form_view .o_form_sheet").textContent;
                for (const raw of ["SMTPRecipientsRefused", "b'5.1.1", "SMTP server 'None'"]) {
                    if (text.includes(raw)) {
                        throw new Error(`The form shows "${raw}"`);
                    }
                }
            },
        },
        {
            content: "The sender as a person reads it, the status bar in the e-mail's order",
            trigger: ".o_form_view .o_field_widget[name='sender']",
            run() {
                const sender = document.querySelector(".o_form_view .o_field_widget[name='sender']");
                if (sender.textContent.includes('"')) {
                    throw new Error(`Sender shown as ${sender.textContent}`);
                }
                const states = [
                    ...document.querySelectorAll(".o_form_view .o_statusbar_status button[data-value]"),
                ]
                    .map((button) => button.dataset.value)
                    .reverse(); // the status bar lays its buttons out right to left
                if (states.indexOf("failed") > states.indexOf("sent")) {
                    throw new Error(`Status bar: ${states.join(" > ")}`);
                }
            },
        },
        {
            content: "Open the document",
            trigger: ".o_form_view button[name='action_open_document']",
            timeout: 30000,
            run: "click",
        },
        {
            content: "The invoice is open",
            trigger: ".o_form_view .o_field_widget[name='partner_id']:contains('Zoe Tour')",
            timeout: 30000,
        },
    ],
});
