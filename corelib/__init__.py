"""plugrad"""
