/** @odoo-module **/
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/** ``texts`` in the user's language (``{en: ..., it: ...}``): the tour runs in English
    and in Italian. */
function translated(texts) {
    return texts[user.lang.slice(0, 2)] ?? texts.en;
}

/* A marketer opens the deliverability dashboard, reads the failures by error
   category and clicks the "Recipient unknown" figure through to its recipients. */
registry.category("web_tour.tours").add("mass_mailing_delivery_dashboard_tour", {
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
            content: "Open Mailing Health",
            trigger: '.o-dropdown-item[data-menu-xmlid="mass_mailing_delivery.mail_delivery_health_menu"]',
            run: "click",
        },
        {
            content: "The mailing's card is red: its only recipient bounced",
            trigger: ".o_kanban_record:contains('Tour mailing') .o_mmd_health_bounced:contains('100')",
        },
        {
            content: "Open Reporting again",
            trigger: '.o_menu_sections button[data-menu-xmlid="mass_mailing.menu_mass_mailing_report"]',
            run: "click",
        },
        {
            content: "Open Delivery Failures",
            trigger: '.o-dropdown-item[data-menu-xmlid="mass_mailing_delivery.mail_delivery_report_menu"]',
            run: "click",
        },
        {
            content: "Click the total of the 'Recipient unknown' category",
            trigger: `.o_pivot tr:has(th:contains('${translated({ en: "Recipient unknown", it: "Destinatario sconosciuto" })}')) td.o_pivot_cell_value:last-child`,
            run: "click",
        },
        {
            content: "The recipient behind the figure is listed",
            trigger: ".o_list_view .o_data_row td[name='email']:contains('tour.gone@nouser.example')",
        },
        {
            content: "The breadcrumb says what the list is, not the report's name twice",
            trigger: ".o_breadcrumb",
            run() {
                const crumbs = [...document.querySelectorAll(".o_breadcrumb .breadcrumb-item, .o_breadcrumb .active")]
                    .map((el) => el.textContent.trim())
                    .filter(Boolean);
                if (new Set(crumbs).size !== crumbs.length) {
                    throw new Error(`Breadcrumb repeats itself: ${crumbs.join(" / ")}`);
                }
            },
        },
    ],
});
