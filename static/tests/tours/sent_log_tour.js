/** @odoo-module **/
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/* A customer calls: "I never got the invoice". The user searches the sent e-mails
   log for the customer's address, reads the row and opens the invoice. */
registry.category("web_tour.tours").add("mass_mailing_delivery_sent_log_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Email Marketing",
            trigger: '.o_app[data-menu-xmlid="mass_mailing.mass_mailing_menu_root"]',
            run: "click",
        },
        {
            content: "Open Reporting",
            trigger: '.o_menu_sections button[data-menu-xmlid="mass_mailing.menu_mass_mailing_report"]',
            run: "click",
        },
        {
            content: "Open Sent E-mails",
            trigger: '.o-dropdown-item[data-menu-xmlid="mass_mailing_delivery.mail_sent_log_menu"]',
            run: "click",
        },
        {
            content: "Search the log for the recipient (part of the address)",
            trigger: ".o_searchview_input",
            run: "edit ZOE@NOUSER",
        },
        {
            content: "Search by recipient (the first proposal)",
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "Only the customer's e-mail is listed, failed",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('other@tour.example'))) .o_data_row:contains('zoe@nouser.example'):contains('Failed')",
        },
        {
            content: "Open the row",
            trigger: ".o_data_row:contains('zoe@nouser.example') td[name='email']",
            run: "click",
        },
        {
            content: "The registry explains the failure",
            trigger: ".o_form_view .alert-danger:contains('What to do')",
        },
        {
            content: "Open the document",
            trigger: ".o_form_view button[name='action_open_document']",
            run: "click",
        },
        {
            content: "The invoice is open",
            trigger: ".o_form_view .o_field_widget[name='partner_id']:contains('Zoe Tour')",
        },
    ],
});
