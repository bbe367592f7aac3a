-- Argo CD health check for rewards.marketplace.io/v1alpha1 RewardsProgram.
-- config/argocd/health.yaml embeds this file; regenerate it with
--   go test ./test/health/ -run TestArgoCDHealthYAML -update
--
-- Progressing  the operator has not yet reported on the current spec
--              (status.observedGeneration, or the Ready condition's, is
--              missing or older than metadata.generation).
-- Healthy      Ready=True: the rules are consistent and in force.
-- Degraded     Ready=False: the rules are inconsistent (for example a tier
--              naming a benefit missing from the catalog); the reason names
--              the problem. Only a fix to this program's spec helps, and
--              publishers following it cannot use it meanwhile.

-- BEGIN common part: identical in every rewards-operator health script.
local hs = {}

-- text joins a condition's reason and message for people.
local function text(c)
  local reason = c.reason or ""
  local message = c.message or ""
  if reason == "" then
    return message
  end
  if message == "" then
    return reason
  end
  return reason .. ": " .. message
end

-- condition returns the status condition of this type, or nil.
local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- Has the operator reported on the current spec? A new object has no
-- status until its first reconcile; a spec change raises
-- metadata.generation before the operator observes it.
local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end
local observed = nil
if obj.status ~= nil then
  observed = obj.status.observedGeneration
end
if observed == nil or observed == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for rewards-operator to reconcile this " .. (obj.kind or "object")
  return hs
end
if observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for rewards-operator to observe generation " .. generation ..
    " (status is from generation " .. observed .. ")"
  return hs
end
local ready = condition("Ready")
if ready == nil or (ready.observedGeneration ~= nil and ready.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for rewards-operator to report the Ready condition"
  return hs
end
-- END common part.

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready)
elseif ready.status == "False" then
  hs.status = "Degraded"
  hs.message = text(ready)
else
  hs.status = "Progressing"
  hs.message = text(ready)
end
return hs
