"""AnalyzeStack: `StackValidationArgs` over every resource, with parents and dependencies linked
as the SDK links them."""
from .execution import NoCycleCollection
from .options import ArgParts


class StackAnalysis:
    """Host part: AnalyzeStack over resources handed over in chunks, or all at once (serve)."""

    # ------------------------------------------------------------ AnalyzeStack

    def stack_begin(self, providers):
        """Starts an AnalyzeStack whose resources arrive in chunks (`stack_add`), so that the
        host can free its own copy of each chunk as soon as it has been handed over."""
        self._set_providers(providers)
        self._stack_chunks = []

    def _has_stack_policies(self):
        sdk = self.sdk
        return any(isinstance(p, sdk.StackValidationPolicy) and self._level(p) != sdk.EnforcementLevel.DISABLED
                   for p in self.policies)

    def stack_add(self, resources, prepend):
        if not self._has_stack_policies():
            return  # AnalyzeStack will not look at them
        with NoCycleCollection():
            chunk = self._prepare_stack(resources)
        if prepend:
            self._stack_chunks.insert(0, chunk)
        else:
            self._stack_chunks.append(chunk)

    def stack_run(self):
        prepared = [e for chunk in self._stack_chunks for e in chunk]
        self._stack_chunks = []
        with NoCycleCollection():
            return self._analyze_stack_prepared(prepared)

    def _prepare_stack(self, resources):
        out = []
        for r in resources:
            props = r.pop("properties", None) or {}
            out.append((r, props, r.get("plain") is True, self._option_values(r.get("options")), r.get("provider"),
                        ArgParts()))
        return out

    def _analyze_stack_prepared(self, prepared):
        """A policy that raises is recorded in `errors` and, as in the SDK, nothing else from the
        call is returned."""
        self._configure_runtime()
        try:
            result = self.analyze_stack_raising(prepared)
            self._ensure_renderable(result["diagnostics"], ("message", "description", "urn"), result["notApplicable"])
            return result
        except BaseException as e:  # noqa: BLE001
            return {"diagnostics": [], "notApplicable": [],
                    "errors": [self._error(getattr(e, "_policy_host_policy", None), "analyzeStack", e)]}

    def analyze_stack_raising(self, prepared):
        """`prepared`: (request, properties, plain, option values, provider, `ArgParts`) per resource."""
        sdk = self.sdk
        diagnostics, not_applicable, errors = [], [], []
        stack_policies = []
        for policy in self.policies:
            level = self._level(policy)
            if level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.StackValidationPolicy):
                continue
            stack_policies.append((policy, level))
        if not stack_policies:
            return {"diagnostics": diagnostics, "notApplicable": not_applicable, "errors": errors}

        for policy, level in stack_policies:
            if level == sdk.EnforcementLevel.REMEDIATE:
                level = sdk.EnforcementLevel.MANDATORY
            report = self._reporter(diagnostics, self._violation_fields(policy, level))
            by_urn, items = {}, []
            for entry in prepared:
                r, props, plain, option_values, provider, parts = entry
                res = sdk.PolicyResource(r["type"], self._props_for(props, plain, parts), r["urn"], r["name"],
                                         self._opts_for(option_values, parts), self._provider_for(provider, parts),
                                         None, [], {})
                items.append((res, r))
                by_urn[res.urn] = res
            for res, r in items:
                parent = r.get("parent")
                if parent is not None and parent in by_urn:
                    res.parent = by_urn[parent]
                for d in r.get("dependencies") or []:
                    if d in by_urn:
                        res.dependencies.append(by_urn[d])
                dependencies = r.get("propertyDependencies") or {}
                if self.order is not None:
                    dependencies = self.order.keys_ordered(dependencies)
                for k, urns in dependencies.items():
                    res.property_dependencies[k] = [by_urn[d] for d in urns if d in by_urn]
            resources_list = [res for res, _ in items]
            config = self._config(policy)
            if self.stack_args_take_tags:
                args = sdk.StackValidationArgs(resources_list, config, self.stack_tags)
            else:
                args = sdk.StackValidationArgs(resources_list, config)
            self._validate(policy, args, report, diagnostics, not_applicable)
        return {"diagnostics": diagnostics, "notApplicable": not_applicable, "errors": errors}
