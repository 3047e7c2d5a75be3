"""Runnable PyTorch scripts shown in each page's code panel; tests execute them."""
