{
    "name": "Email Delivery Diagnostics",
    "summary": "Why an e-mail was ignored, refused or bounced, and what to do about it",
    "version": "18.0.1.0.0",
    "category": "Marketing/Email Marketing",
    "website": "https://github.com/mass-mailing-delivery/mass_mailing_delivery",
    "author": "Email Delivery Diagnostics contributors",
    "license": "LGPL-3",
    "depends": ["mass_mailing", "contacts"],
    "external_dependencies": {"python": ["flufl.bounce"]},
    "data": [
        "security/mass_mailing_delivery_groups.xml",
        "security/ir.model.access.csv",
        "data/ir_config_parameter_data.xml",
        "data/mail_delivery_error_data.xml",
        "views/mail_bounce_event_views.xml",
        "views/mail_delivery_error_views.xml",
        "views/mailing_trace_views.xml",
        "views/res_config_settings_views.xml",
        "views/mailing_mailing_outcome_views.xml",
        "views/ir_mail_server_views.xml",
        "views/mail_delivery_report_views.xml",
        "views/mass_mailing_delivery_menus.xml",
        "data/ir_cron_data.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "mass_mailing_delivery/static/src/**/*",
        ],
        "web.assets_tests": [
            "mass_mailing_delivery/static/tests/tours/*.js",
        ],
    },
    "demo": [
        "demo/res_partner_demo.xml",
        "demo/mailing_mailing_demo.xml",
    ],
}
