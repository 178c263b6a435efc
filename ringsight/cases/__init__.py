"""Cases: accounts and roles, personal-data masking, annotations, the case workflow, the audit trail,
sanctions and repeat offenders, and the police referral package.

One module per job; import what you need (nothing heavy is imported here):

- :mod:`~ringsight.cases.roles` — the four roles, :class:`~ringsight.cases.roles.Permission`,
  ``can`` / ``require`` / ``require_role`` / ``may_unmask``; :class:`~ringsight.cases.roles.AccessDenied`.
- :mod:`~ringsight.cases.accounts` — ``User`` (rows in the app database, :mod:`ringsight.appdb`, never
  graph nodes); ``authenticate`` (argon2id, throttled atomically per user+address and per address);
  ``check_password`` (NIST SP 800-63B); ``add_user``, ``list_users``, ``get_user``, ``disable_user``, ``set_active``,
  ``set_password``, ``change_own_password``, ``set_role``; ``system_actor`` for the CLI.
- :mod:`~ringsight.cases.sessions` — ``issue``, ``verify``, ``authorize`` (verify + permission, for every
  route and callback), ``refresh``, ``logout``, ``revoke``; ``SESSION_COOKIE``; ``SessionError``.
- :mod:`~ringsight.cases.access` — ``mask_record``, ``mask_rows``, ``mask_text``,
  ``mask_node_properties``; ``reveal`` / ``reveal_record`` (audited unmasking).
- :mod:`~ringsight.cases.annotations` — ``annotate``, ``list_annotations``, ``annotations_for``, ``tags_for``,
  ``recent_annotations``, ``retract``, ``link_key``, ``tag_vocabulary``.
- :mod:`~ringsight.cases.workflow` — ``create_case``, ``move_case``, ``assign_case``, ``update_case``,
  ``add_evidence``, ``cover``, ``get_case``, ``list_cases``, ``overdue_cases``, ``case_targets``,
  ``cases_covering``; ``Case``; ``CaseConflict`` (stale version), ``STATES``, ``TRANSITIONS``, ``OUTCOMES``.
- :mod:`~ringsight.cases.audit` — ``record``, ``list_entries``, ``list_for``, ``export_entries``, ``verify``
  (the trail is a numbered, hash-chained, signed table in the app database).
- :mod:`~ringsight.cases.cli_login` — ``ringsight login`` tokens and ``acting_user`` (proof for ``--as``).
- :mod:`~ringsight.cases.sanctions` — ``add_sanction``, ``list_sanctions``, ``repeat_offender_status``,
  ``repeat_offenders``, ``repeat_offender_clusters``, ``case_repeat_offenders``.
- :mod:`~ringsight.cases.referral` — ``build_referral`` (PDF + zip, audited), ``collect_referral``,
  ``legal_assessment``; drawn by :mod:`~ringsight.cases.referral_pdf` and :mod:`~ringsight.cases.network`
  with the font from :mod:`~ringsight.cases.fonts`.
- :mod:`~ringsight.cases.commands` — ``ringsight users|case|audit|sanction|login|logout`` and
  ``ringsight export referral``.
"""
