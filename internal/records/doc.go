// Package records keeps the operator's durable record: what Kubernetes
// would otherwise lose with a status or an object's lifetime (docs/rules.md,
// "The durable record").
//
//   - BenefitGrants (Grants): that a benefit was granted, when, until when,
//     and whether it was revoked. A grant belongs to the activation of its
//     namespace and name, whatever that object's uid (R7), and outlives it
//     (R8): no ownerReference, labels to select it by.
//   - RewardsProgramRevisions (Programs): the rules a program had in force,
//     so that the last valid rules survive a status wipe, and each grant
//     can name the rules it was granted under.
//
// The controllers, the kubectl plugin and the tests read and write the
// record through this package only, as Kubernetes' StatefulSet controller
// keeps its history behind pkg/controller/history's Interface.
package records
