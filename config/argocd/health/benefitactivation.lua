-- Argo CD health check for rewards.marketplace.io/v1alpha1 BenefitActivation.
-- config/argocd/health.yaml embeds this file; regenerate it with
--   go test ./test/health/ -run TestArgoCDHealthYAML -update
--
-- Progressing  the operator has not yet reported on the current spec; or
--              the activation is Pending on a program prerequisite that is
--              expected to change (publisher not enrolled, offer not live
--              yet, tier not reached, marketing contact missing, a
--              violation or a fraud report standing, benefit already used).
--              The message names it, as the Ready condition does.
-- Healthy      Active. Also Expired: the benefit ran its course (rule O4),
--              a finished lifecycle, not a failure; the message starts
--              with "Expired:". (Degraded would page people for the normal
--              end of every Trial benefit, and Suspended would promise a
--              resume that cannot happen.) A contact overdue (rule B4) is
--              added to an Active one's message: it is the Rewards team's
--              obligation, not a fault of the object.
-- Suspended    OptedOut: spec.optOut, or the offer's, is set (rule O6);
--              clearing it resumes the activation.
-- Degraded     Revoked (rules R1-R4): terminal, needs a person. Also
--              Pending because something it refers to does not exist or is
--              invalid (OfferNotFound, PublisherNotFound, ProgramNotFound,
--              ProgramInvalid, UnknownBenefit): what admission could not
--              check, and what Offer, Publisher and SalesRecord report as
--              Degraded too. And Active with such a reason: a granted
--              benefit is kept as granted (its BenefitGrant), but nothing
--              new is decided until the reference is back.

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

-- Pending reasons that are an error in what was written, not a wait.
local brokenReferences = {
  OfferNotFound = true,
  PublisherNotFound = true,
  ProgramNotFound = true,
  ProgramInvalid = true,
  UnknownBenefit = true,
}

local phase = obj.status.phase
if phase == "Active" and ready.status == "False" and brokenReferences[ready.reason] then
  -- Granted, and kept as granted while what it refers to is missing: the
  -- benefit is not at risk, but nothing new is decided until it is back.
  hs.status = "Degraded"
  hs.message = "Active as granted, " .. text(ready)
elseif phase == "Active" then
  hs.status = "Healthy"
  hs.message = text(ready)
  local contact = condition("ContactOverdue")
  if contact ~= nil and contact.status == "True" then
    hs.message = hs.message .. "; contact overdue: " .. (contact.message or "")
  end
elseif phase == "Expired" then
  hs.status = "Healthy"
  hs.message = text(ready)
elseif phase == "OptedOut" then
  hs.status = "Suspended"
  hs.message = text(ready)
elseif phase == "Revoked" then
  hs.status = "Degraded"
  hs.message = text(ready)
elseif phase == "Pending" and brokenReferences[ready.reason] then
  hs.status = "Degraded"
  hs.message = "Pending, " .. text(ready)
elseif phase == "Pending" then
  hs.status = "Progressing"
  hs.message = "Pending, " .. text(ready)
elseif ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready)
else
  hs.status = "Progressing"
  hs.message = text(ready)
end
return hs
