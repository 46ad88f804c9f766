/** @odoo-module **/
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

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
            trigger: ".o_list_view:not(:has(.o_data_row:contains('other@tour.example'))) .o_data_row:contains('zoe@nouser.example'):contains('Failed')",
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
            trigger: ".o_form_view .alert-danger:contains('What to do')",
            timeout: 30000,
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
