import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { formatInteger, formatPercentage } from "@web/views/fields/formatters";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

import { Component, onWillStart, onWillUnmount, onWillUpdateProps, useState } from "@odoo/owl";

/** Poll period (ms) while the mailing is queued or sending. */
export const LIVE_SUMMARY_POLL_MS = 3000;

/**
 * Live summary box of a mailing: compact figures read by one RPC
 * (mailing.mailing.get_live_summary), refreshed by itself while the mailing
 * is queued or sending. Every figure opens the recipients behind it.
 */
export class MailingLiveSummary extends Component {
    static props = { ...standardWidgetProps, links: { type: Boolean, optional: true } };
    static template = "mass_mailing_delivery.MailingLiveSummary";

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ summary: null });
        this.timer = null;
        onWillStart(() => this.load(this.props.record.resId));
        onWillUpdateProps((nextProps) => this.load(nextProps.record.resId));
        onWillUnmount(() => clearTimeout(this.timer));
    }

    get figures() {
        const summary = this.state.summary;
        return [
            ["total", _t("Total"), _t("Every recipient of the mailing.")],
            ["to_send", _t("To send"), _t("Recipients whose e-mail is still queued.")],
            ["sent", _t("Sent"), _t("Recipients whose e-mail left Odoo.")],
            [
                "delivered",
                _t("Delivered"),
                _t("Recipients whose e-mail the receiving server accepted and did not bounce."),
            ],
            ["opened", _t("Opened"), _t("Recipients who opened the e-mail (or clicked or replied).")],
            ["clicked", _t("Clicked"), _t("Recipients who clicked at least one link.")],
            ["replied", _t("Replied"), _t("Recipients who replied.")],
            [
                "ignored",
                _t("Ignored"),
                _t(
                    "Recipients never sent, before any attempt: blocked, opted out, duplicate, missing or invalid address."
                ),
            ],
            [
                "not_sent",
                _t("Not sent"),
                _t("Recipients whose e-mail Odoo tried to send and could not: refused or unreachable server."),
            ],
            ["bounced", _t("Bounced"), _t("Recipients whose e-mail came back.")],
        ].map(([key, label, help]) => {
            const base = summary.rate_bases[key];
            const hasRate = Boolean(base);
            const rate = hasRate ? summary.rates[key] : null;
            const value = summary[key];
            let title = help;
            if (hasRate) {
                title = `${help}\n${_t("%(value)s of %(base_value)s %(base)s: %(rate)s", {
                    value: formatInteger(value),
                    base_value: formatInteger(summary[base]),
                    base: this.baseLabels[base],
                    rate: formatPercentage(rate / 100),
                })}`;
            }
            return {
                key,
                label,
                value: formatInteger(value),
                rate: hasRate ? formatPercentage(rate / 100) : null,
                title,
            };
        });
    }

    /** What a percentage is a share of, by base figure. */
    get baseLabels() {
        return {
            total: _t("recipients"),
            targeted: _t("recipients mailed (the ignored ones left out)"),
            sent: _t("e-mails sent"),
            delivered: _t("e-mails delivered"),
        };
    }

    get eta() {
        const seconds = this.state.summary?.eta_seconds;
        if (!seconds) {
            return "";
        }
        const hours = Math.floor(seconds / 3600);
        const minutes = Math.floor((seconds % 3600) / 60);
        const secs = seconds % 60;
        return hours ? `${hours}h ${minutes}m` : minutes ? `${minutes}m ${secs}s` : `${secs}s`;
    }

    async load(resId) {
        clearTimeout(this.timer);
        if (!resId) {
            this.state.summary = null;
            return;
        }
        this.state.summary = await this.orm.call("mailing.mailing", "get_live_summary", [[resId]]);
        const { state, to_send } = this.state.summary;
        if (["in_queue", "sending"].includes(state) || to_send > 0) {
            this.timer = setTimeout(() => this.load(resId), LIVE_SUMMARY_POLL_MS);
        }
    }

    async openFigure(key) {
        const action = await this.orm.call("mailing.mailing", "action_view_summary_traces", [
            [this.props.record.resId],
            key,
        ]);
        if (action) {
            this.action.doAction(action);
        }
    }

    async openLink(linkId) {
        const action = await this.orm.call("mailing.mailing", "action_view_link_clicks", [
            [this.props.record.resId],
            linkId,
        ]);
        if (action) {
            this.action.doAction(action);
        }
    }
}

registry.category("view_widgets").add("mmd_live_summary", {
    component: MailingLiveSummary,
    extractProps: ({ attrs }) => ({ links: attrs.links === "1" }),
});
