//! Platform code, kept behind small modules so that a port touches one place:
//! `unix` holds what every Unix has, `linux` what only Linux has
//! (`O_TMPFILE`, `MADV_REMOVE`, device DAX, `membarrier`).

pub(crate) mod unix;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) use linux::static_tls_offset;
#[cfg(target_os = "linux")]
pub(crate) use linux::{dax_device_size, discard_pages, membarrier, membarrier_register, open_tmpfile};

#[cfg(not(target_os = "linux"))]
pub(crate) use unix::{
    dax_device_size, discard_pages, membarrier, membarrier_register, open_tmpfile_by_name as open_tmpfile,
};
