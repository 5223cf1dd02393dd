"""Remediate and Analyze: each policy gets its own `report_violation`, arguments and config, as
`_PolicyAnalyzerServicer` gives them; unknown values, not-applicable results and failures are
recorded as the SDK's server records them."""
from .errors import UnrenderableResult
from .execution import NoCycleCollection, run_awaitable
from .options import ArgParts
from .rendering import blame, first_unrenderable, render_error
from .tracking import REGISTRY, Tree, watch_attributes

ADVISORY, MANDATORY, DISABLED, REMEDIATE = 0, 1, 2, 3


class ResourceAnalysis:
    """Host part: Remediate and Analyze per resource, with the servicer's own semantics."""

    # ---------------------------------------------------------------- helpers

    def _severity(self, severity):
        return int(self.servicer._map_severity(severity))

    def _violation_fields(self, policy, level):
        """What each violation of `policy` at `level` carries besides its message and URN."""
        return (policy.name, policy.description, int(self.servicer._map_enforcement_level(level)),
                self._severity(policy.severity))

    @staticmethod
    def _reporter(diagnostics, fields):
        """A fresh `report_violation` for one policy call, as the SDK's `_create_report_violation`
        (it keeps two variables, not five: made for every policy of every call, reporting or not)."""
        def report_violation(message, urn=None):
            if message and not isinstance(message, str):
                raise TypeError("Expected message to be a string")
            if urn is not None and not isinstance(urn, str):
                raise TypeError("Expected urn to be a string")
            name, description, level_number, severity = fields
            text = description
            if message:
                text += f"\n{message}"
            diagnostics.append({"policyName": name, "description": description, "message": text,
                                "enforcementLevel": level_number, "severity": severity, "urn": urn or ""})
        return report_violation

    def _unknown_diagnostic(self, policy, error):
        return {"policyName": policy.name, "description": policy.description,
                "message": (f"can't run policy '{policy.name}' from policy pack "
                            f"'{self.pack_name}@v{self.pack_version}' during preview: {error.message}"),
                "enforcementLevel": ADVISORY, "severity": 0, "urn": ""}

    def _validate(self, policy, args, report, diagnostics, not_applicable):
        """Runs one policy's validate as the servicer does: unknown values become the advisory
        note, not-applicable is recorded, anything else propagates with the policy named."""
        try:
            result = policy.validate(args, report)
            if result is not None:
                self._run(result)
        except self.UnknownValueError as e:
            diagnostics.append(self._unknown_diagnostic(policy, e))
        except self.NotApplicable as e:
            not_applicable.append({"policyName": policy.name, "reason": e.reason or ""})
        except BaseException as e:
            blame(e, policy)
            raise

    _run = staticmethod(run_awaitable)

    _error = staticmethod(render_error)

    def _ensure_renderable(self, entries, keys, not_applicable):
        """Fails the call, as the SDK's server does when it cannot encode its response, when a
        result holds text that is not valid Unicode; the error names the policy."""
        bad = self._unrenderable(entries, keys) or self._unrenderable(not_applicable, ("reason",))
        if bad is None:
            return
        entry, key = bad
        try:
            entry[key].encode("utf-8")
            e = UnrenderableResult(f"the {key} of a result is not valid UTF-8 text")
        except UnicodeEncodeError as error:  # what the SDK's server raises when it encodes the response
            e = error
        name = entry.get("policyName")
        e._policy_host_policy = next((p for p in self.policies if p.name == name), None)
        raise e

    _unrenderable = staticmethod(first_unrenderable)

    # --------------------------------------------------------------- Remediate

    def remediating_policies(self):
        """The resource policies Remediate runs, in pack order: those at REMEDIATE level as configured
        now. With none, Remediate runs no policy code and answers nothing (the SDK's loop skips every
        policy), so it is skipped or answered without Python (`remediates`)."""
        return self._plans()[1]

    def _plans(self):
        """The Analyze plan and the remediating policies, worked out again only when what they read
        may have changed. They read the servicer's configured levels and config (Configure assigns
        them) and each policy's level, severity, name, description and validate: attributes of the
        servicer and of the policies. Both are registered in one `Tree` and their classes' attribute
        mutators watched (`tracking`), so that assigning or deleting any attribute of either — the
        SDK's Configure, or a policy changing its own level — marks the plans stale, and checking
        costs one flag, where reading it all again on every `serve` call touched memory that is cold
        after each wait for the client (several µs of a sequential Analyze's CPU, against ≈1 µs
        kept). Not seen, as for the other watched objects: writes that bypass
        `__setattr__` (into `vars(policy)` or inside the servicer's private config dicts) and
        changes to the classes themselves. A policy class with mutators of its own is not tracked:
        its pack's plans are worked out on every call."""
        kept = self._kept_plans
        if kept is not None and not kept[0].dirty and kept[1] is self.servicer:
            return kept[2]
        plans = (self._work_out_analyze_plan(), self._work_out_remediating())
        self._kept_plans = self._tracked(plans)
        return plans

    def _tracked(self, plans):
        """(tree, servicer, plans) once the servicer and the policies are registered in a fresh tree, or
        None when one of them cannot be watched."""
        servicer, base = self.servicer, getattr(self.sdk, "Policy", None)
        if servicer is None or base is None:
            return None
        watch_attributes(type(servicer))  # wraps the servicer's own class: always watched
        watch_attributes(base)
        mutators = (base.__setattr__, base.__delattr__)
        if any((type(p).__setattr__, type(p).__delattr__) != mutators for p in self.policies):
            return None
        tree = Tree()
        try:
            for o in [servicer, *self.policies]:
                REGISTRY.add(o, tree)
        except TypeError:  # no weak references to it
            return None
        return tree, servicer, plans

    def _work_out_remediating(self):
        sdk = self.sdk
        return [p for p in self.policies if isinstance(p, sdk.ResourceValidationPolicy) and
                self._level(p) == sdk.EnforcementLevel.REMEDIATE]

    def remediates(self):
        """For serve: whether a Remediate call would run a policy (fast path only: on the servicer path
        every call goes to the SDK)."""
        return self.sdk_path["path"] != "fast" or bool(self.remediating_policies())

    def remediate(self, r):
        """One Remediate call, as `_PolicyAnalyzerServicer.Remediate`; properties keep `__` keys."""
        from google.protobuf import json_format, struct_pb2
        sdk = self.sdk
        remediations, not_applicable = [], []
        final = None
        remediating = self.remediating_policies()
        if not remediating:
            # The SDK's loop would skip every policy: the same empty answer, without building the
            # arguments no policy sees.
            return remediations, not_applicable, final
        props = self.proxy(self.deserialize(self._ordered(r["properties"]), True))
        opts = self._options(r.get("options"))
        provider = self._provider(r.get("provider"))
        for policy in remediating:
            if not policy.has_remediation():
                not_applicable.append({"policyName": policy.name, "reason": "Policy does not implement remediate"})
                continue
            args = self._resource_args(r["type"], props, r["urn"], r["name"], opts, provider, self._config(policy))
            rpc_props, diagnostic = None, None
            try:
                new_props = self._run(policy.remediate(args))
                if new_props:
                    props = new_props
                    serialized = self.serialize(new_props)
                    struct = struct_pb2.Struct()
                    for k, v in serialized.items():
                        struct[k] = v
                    rpc_props = json_format.MessageToDict(struct)
            except self.UnknownValueError as e:
                diagnostic = (f"can't run remediation '{policy.name}' from policy pack "
                              f"'{self.pack_name}@v{self.pack_version}' during preview: {e.message}")
            except self.NotApplicable as e:
                not_applicable.append({"policyName": policy.name, "reason": e.reason or ""})
            except BaseException as e:
                blame(e, policy)
                raise
            if rpc_props or diagnostic:
                remediations.append({"policyName": policy.name, "description": policy.description,
                                     "properties": rpc_props, "diagnostic": diagnostic or ""})
                if rpc_props:
                    final = rpc_props
        return remediations, not_applicable, final

    # ----------------------------------------------------------------- Analyze

    def analyze_plan(self):
        """What Analyze does with each policy (`_plans`): per applicable resource policy in pack order,
        (policy, None, _) for "does not implement validate", else (policy, violation fields, whether
        it has config). A list callers only read."""
        return self._plans()[0]

    def _work_out_analyze_plan(self):
        sdk = self.sdk
        plan = []
        for policy in self.policies:
            level = self._level(policy)
            if level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.ResourceValidationPolicy):
                continue
            if not policy.has_validation():
                plan.append((policy, None, False))
                continue
            if level == sdk.EnforcementLevel.REMEDIATE:
                level = sdk.EnforcementLevel.MANDATORY
            plan.append((policy, self._violation_fields(policy, level), self._config(policy) is not None))
        return plan

    def analyze(self, r, props_wire, plan=None, plain=False):
        """One Analyze call, as `_PolicyAnalyzerServicer.Analyze`: each policy gets its own
        `report_violation`, args and config copy; properties, options and provider objects are built
        on the first policy that runs and handed on while no policy changed them. (Where what
        `_props_for`, `_opts_for` and `_resource_args` would give is a field of `parts` or one call,
        the loop reads it itself: a sequential `serve` call runs its Python cold, where each call per
        policy costs.)"""
        if plan is None:
            plan = self.analyze_plan()
        diagnostics, not_applicable = [], []
        parts = None
        for policy, fields, has_config in plan:
            if fields is None:
                not_applicable.append({"policyName": policy.name, "reason": "Policy does not implement validate"})
                continue
            if parts is None:
                parts = ArgParts()
                option_values = self._option_values(r.get("options"))
                provider_ref = r.get("provider")
                rtype, urn, name = r["type"], r["urn"], r["name"]
                reporter, get_config = self._reporter, self.servicer._get_policy_config
                args_class, tags = self.sdk.ResourceValidationArgs, self.stack_tags if self.args_take_tags else None
                tracked, validate = self.tracked is not None, self._validate
            report = reporter(diagnostics, fields)
            # What the SDK builds per policy: reused only while no policy changed it.
            tree = parts.tree
            props = parts.props if tree is not None and not tree.dirty and not parts.fresh \
                else self._props_for(props_wire, plain, parts)
            opts = parts.opts if tracked and parts.opts is not None and not parts.opts_tree.dirty \
                else self._opts_for(option_values, parts)
            provider = None if provider_ref is None else self._provider_for(provider_ref, parts)
            config = get_config(policy.name) if has_config else None
            if tags is None:
                args = args_class(rtype, props, urn, name, opts, provider, config)
            else:
                args = args_class(rtype, props, urn, name, opts, provider, config, tags)
            validate(policy, args, report, diagnostics, not_applicable)
        return diagnostics, not_applicable

    def run_resources(self, resources, providers, apply_remediations):
        """Remediate then Analyze for each resource, as the engine does per resource step.

        `properties` carry the top-level `__` keys that Remediate sees; Analyze gets them dropped,
        as the engine marshals with SkipInternalKeys for Analyze only."""
        with NoCycleCollection():
            return self._run_resources(resources, providers, apply_remediations)

    def _run_resources(self, resources, providers, apply_remediations):
        self._configure_runtime()
        self._set_providers(providers)
        sdk = self.sdk
        # With no policy at REMEDIATE level the SDK's Remediate loop skips every policy and
        # returns an empty response, so the call is skipped entirely.
        any_remediation = bool(self.remediating_policies())
        plan = self.analyze_plan()
        out = []
        for r in resources:
            result = {"remediations": [], "diagnostics": [], "notApplicable": [], "errors": []}
            props = r["properties"]
            analyze_props = props
            plain = r.get("plain") is True
            for k in props:
                if k.startswith("__"):
                    analyze_props = {k: v for k, v in props.items() if not k.startswith("__")}
                    break
            if any_remediation:
                try:
                    remediations, na, final = self.remediate(r)
                    self._ensure_renderable(remediations, ("diagnostic", "description"), na)
                    result["remediations"] = remediations
                    result["notApplicable"].extend(na)
                    if apply_remediations and final is not None:
                        analyze_props = {k: v for k, v in final.items() if not k.startswith("__")}
                        plain = False
                except BaseException as e:  # noqa: BLE001  (SystemExit, KeyboardInterrupt too: they fail this call only)
                    result["errors"].append(self._error(getattr(e, "_policy_host_policy", None), "remediate", e))
            try:
                diagnostics, na = self.analyze(r, analyze_props, plan, plain)
                self._ensure_renderable(diagnostics, ("message", "description", "urn"), na)
                result["diagnostics"] = diagnostics
                result["notApplicable"].extend(na)
            except BaseException as e:  # noqa: BLE001
                result["errors"].append(self._error(getattr(e, "_policy_host_policy", None), "analyze", e))
            out.append(result)
        return out
