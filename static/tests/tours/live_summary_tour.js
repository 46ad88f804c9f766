/** @odoo-module **/
import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

/* The live summary box of a sending mailing refreshes by itself: a queued mail is
   delivered on the server, the box follows without reloading the page. */
registry.category("web_tour.tours").add("mass_mailing_delivery_live_summary_tour", {
    steps: () => [
        {
            content: "The summary shows one mail to send",
            trigger: ".o_mmd_live_summary .o_mmd_figure_to_send .o_mmd_value:contains('1')",
            timeout: 20000,
        },
        {
            content: "The bounced recipient is counted",
            trigger: ".o_mmd_live_summary .o_mmd_figure_bounced .o_mmd_value:contains('1')",
        },
        {
            content: "The queued mail is delivered, on the server",
            trigger: ".o_mmd_live_summary .o_mmd_figure_delivered .o_mmd_value:contains('0')",
            run: async () => {
                const [traceId] = await rpc("/web/dataset/call_kw/mailing.trace/search", {
                    model: "mailing.trace",
                    method: "search",
                    args: [[["email", "=", "live.queued@example.com"]]],
                    kwargs: {},
                });
                await rpc("/web/dataset/call_kw/mailing.trace/write", {
                    model: "mailing.trace",
                    method: "write",
                    args: [[traceId], { trace_status: "sent", sent_datetime: "2026-01-01 10:00:00" }],
                    kwargs: {},
                });
            },
        },
        {
            content: "The box refreshes by itself: nothing left to send",
            trigger: ".o_mmd_live_summary .o_mmd_figure_to_send .o_mmd_value:contains('0')",
            timeout: 15000,
        },
        {
            content: "and one delivered",
            trigger: ".o_mmd_live_summary .o_mmd_figure_delivered .o_mmd_value:contains('1')",
        },
        {
            content: "Open the Links tab",
            trigger: ".o_notebook a[name='link_summary']",
            run: "click",
        },
        {
            content: "The tab lists the links clicked (none yet)",
            trigger: ".o_mmd_link_summary",
        },
    ],
});
