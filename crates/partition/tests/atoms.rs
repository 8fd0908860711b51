//! Buildings → atoms: whole buildings, units, floor slices, errors.

use geo::Point;
use wangge_partition::atoms::build_atoms;
use wangge_partition::{BuildingInput, PartitionError, Quota};

fn b(id: &str, h: u32, units: &[(&str, u32)]) -> BuildingInput {
    BuildingInput {
        id: id.into(),
        households: h,
        units: units.iter().map(|&(n, h)| (n.to_string(), h)).collect(),
        point: Point::new(0.0, 0.0),
        footprint: None,
        compound: None,
    }
}

#[test]
fn whole_units_and_floors() {
    let q = Quota::new(300, 500, None).expect("quota");
    let input = vec![
        b("Z", 120, &[("1", 60), ("2", 60)]),
        b("A", 800, &[("1", 400), ("2", 400)]),
        b("M", 1201, &[]),
        b("U", 700, &[("1", 650), ("2", 50)]),
    ];
    let (atoms, notes) = build_atoms(&input, &q).expect("atoms");
    // Sorted by id.
    let ids: Vec<(String, Option<String>)> = atoms.iter().map(|a| (a.id.building.clone(), a.id.unit.clone())).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    // Z fits: one atom for the whole building.
    assert_eq!(atoms.iter().filter(|a| a.id.building == "Z").count(), 1);
    assert!(atoms.iter().any(|a| a.id.building == "Z" && a.id.unit.is_none() && a.households == 120));
    // A: by units, no floor split.
    let a: Vec<_> = atoms.iter().filter(|a| a.id.building == "A").collect();
    assert_eq!(a.len(), 2);
    assert!(a.iter().all(|a| a.households == 400 && !a.id.unit.as_deref().unwrap_or("#").contains('#')));
    // M: no units → floor slices #k, each ≤ 500, adding up.
    let m: Vec<_> = atoms.iter().filter(|a| a.id.building == "M").collect();
    assert_eq!(m.len(), 3);
    assert!(m.iter().all(|a| a.households <= 500 && a.id.unit.as_deref().is_some_and(|u| u.starts_with('#'))));
    assert_eq!(m.iter().map(|a| a.households).sum::<u32>(), 1201);
    // U: unit 1 (650) in slices 1#1, 1#2; unit 2 whole.
    let u: Vec<_> = atoms
        .iter()
        .filter(|a| a.id.building == "U")
        .map(|a| (a.id.unit.clone().unwrap_or_default(), a.households))
        .collect();
    assert_eq!(u.len(), 3);
    assert!(u.iter().any(|(n, h)| n == "2" && *h == 50));
    assert_eq!(u.iter().filter(|(n, _)| n.starts_with("1#")).map(|(_, h)| h).sum::<u32>(), 650);
    // Floor splits are reported (M and U's unit 1), unit splits are not.
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes.iter().any(|n| n.contains('M')) && notes.iter().any(|n| n.contains("U unit 1")));
    assert_eq!(atoms.iter().map(|a| u64::from(a.households)).sum::<u64>(), 120 + 800 + 1201 + 700);
}

#[test]
fn errors_name_the_building() {
    let q = Quota::new(300, 500, None).expect("quota");
    assert_eq!(build_atoms(&[b("X", 0, &[])], &q).err(), Some(PartitionError::NoHouseholds("X".into())));
    assert_eq!(build_atoms(&[b("X", 5, &[]), b("X", 6, &[])], &q).err(), Some(PartitionError::DuplicateId("X".into())));
    assert_eq!(
        build_atoms(&[b("X", 10, &[("1", 3)])], &q).err(),
        Some(PartitionError::UnitsMismatch { building: "X".into(), units: 3, households: 10 })
    );
}
